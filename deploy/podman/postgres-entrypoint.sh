#!/usr/bin/env bash
# Entrypoint of the postgres stand-in image (deploy/podman/standin-images.sh). Implements the
# documented conventions of the official image that the manifests use, nothing more:
#   POSTGRES_PASSWORD / POSTGRES_PASSWORD_FILE, POSTGRES_USER (postgres), POSTGRES_DB (= user),
#   POSTGRES_HOST_AUTH_METHOD (default: password_encryption), POSTGRES_INITDB_ARGS, PGDATA;
#   on an empty PGDATA: initdb, a "host all all all <method>" line in pg_hba.conf, a socket-only
#   temporary server with the container's own arguments, POSTGRES_DB created, then every file of
#   /docker-entrypoint-initdb.d in order (*.sh run if executable, sourced otherwise; *.sql via psql);
#   arguments starting with "-" are arguments to postgres. Runs under any UID (nss_wrapper when the
#   UID has no passwd entry, as with the manifests' 10002).
set -Eeo pipefail

# file_env VAR [DEFAULT]: VAR from VAR or from the file named by VAR_FILE (not both).
file_env() {
  local var=$1 file_var="${1}_FILE" def=${2:-} val
  if [[ -n ${!var:-} && -n ${!file_var:-} ]]; then
    echo "error: both $var and $file_var are set" >&2
    exit 1
  fi
  val=$def
  if [[ -n ${!var:-} ]]; then val=${!var}; elif [[ -n ${!file_var:-} ]]; then val=$(<"${!file_var}"); fi
  export "$var"="$val"
  unset "$file_var"
}

sql() { # psql as the bootstrap superuser over the socket of the temporary server
  PGHOST= PGHOSTADDR= psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
}

init_database() {
  local uid gid wrapper
  uid=$(id -u)
  gid=$(id -g)
  if ! getent passwd "$uid" >/dev/null; then
    for wrapper in /usr/lib/*/libnss_wrapper.so /usr/lib/libnss_wrapper.so; do
      [[ -s $wrapper ]] || continue
      NSS_WRAPPER_PASSWD=$(mktemp)
      NSS_WRAPPER_GROUP=$(mktemp)
      export LD_PRELOAD=$wrapper NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
      printf 'postgres:x:%s:%s:PostgreSQL:%s:/bin/false\n' "$uid" "$gid" "$PGDATA" >"$NSS_WRAPPER_PASSWD"
      printf 'postgres:x:%s:\n' "$gid" >"$NSS_WRAPPER_GROUP"
      break
    done
  fi
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words by convention
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS
  if [[ ${LD_PRELOAD:-} == */libnss_wrapper.so ]]; then
    rm -f "$NSS_WRAPPER_PASSWD" "$NSS_WRAPPER_GROUP"
    unset LD_PRELOAD NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
  fi
}

main() {
  [[ ${1:0:1} == - ]] && set -- postgres "$@"
  if [[ $1 != postgres ]]; then
    exec "$@"
  fi
  shift
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  : "${PGDATA:=/var/lib/postgresql/data}"
  export PGDATA
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA" || :

  if [[ ! -s $PGDATA/PG_VERSION ]]; then
    if [[ -z $POSTGRES_PASSWORD && ${POSTGRES_HOST_AUTH_METHOD:-} != trust ]]; then
      echo "error: database is uninitialized and POSTGRES_PASSWORD is empty (or set POSTGRES_HOST_AUTH_METHOD=trust)" >&2
      exit 1
    fi
    init_database
    local auth
    auth=${POSTGRES_HOST_AUTH_METHOD:-$(postgres -C password_encryption "$@")}
    printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
    export PGPASSWORD=${PGPASSWORD:-$POSTGRES_PASSWORD}
    # Socket only: nothing can connect over TCP before the init scripts are done.
    pg_ctl -D "$PGDATA" -o "$(printf '%q ' "$@" -c listen_addresses= -p "${PGPORT:-5432}")" -w start
    if [[ -z $(sql --dbname postgres --tuples-only --set db="$POSTGRES_DB" <<<"SELECT 1 FROM pg_database WHERE datname = :'db'") ]]; then
      sql --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db"'
    fi
    local f
    for f in /docker-entrypoint-initdb.d/*; do
      case $f in
        *.sh)
          if [[ -x $f ]]; then
            echo "$0: running $f"
            "$f"
          else
            echo "$0: sourcing $f"
            # shellcheck disable=SC1090
            . "$f"
          fi
          ;;
        *.sql) echo "$0: running $f"; sql --dbname "$POSTGRES_DB" -f "$f" ;;
        *) [[ -e $f ]] && echo "$0: ignoring $f" ;;
      esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop
    unset PGPASSWORD
    echo "PostgreSQL init process complete; ready for start up."
  else
    echo "PostgreSQL database directory appears to contain a database; skipping initialization"
  fi
  exec postgres "$@"
}

main "$@"
