#!/usr/bin/env bash
# Stand-ins for the PostgreSQL and Redis images the manifests reference, for a host that reaches
# Debian's package mirror but no image registry (like deploy/local-python-base.sh for python). Each is a
# debootstrap'd bookworm with Debian's package, tagged with exactly the name the manifests use (without
# the digest, which only a registry can serve: deploy/podman/kube2podman.py drops it in the converted
# YAML). They are NOT the official images:
#   - postgres:17.11-bookworm is Debian's postgresql-15 (bookworm has no 17 and apt.postgresql.org is
#     unreachable here) with deploy/podman/postgres-entrypoint.sh, which follows the official image's
#     conventions the manifests rely on (POSTGRES_PASSWORD[_FILE], POSTGRES_USER, POSTGRES_DB,
#     POSTGRES_HOST_AUTH_METHOD, PGDATA, /docker-entrypoint-initdb.d, any UID via nss_wrapper);
#   - redis:7.4.8-alpine is Debian's redis-server 7.0 on bookworm, not Alpine (the manifest runs
#     /bin/sh -c '... exec redis-server /etc/redis/redis.conf', which both provide).
# Idempotent: an image that exists is kept. About two minutes the first time.
# Usage: deploy/podman/standin-images.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
postgres_image=docker.io/library/postgres:17.11-bookworm
redis_image=docker.io/library/redis:7.4.8-alpine
pg_major=15

need=()
podman image exists "$postgres_image" || need+=(postgres)
podman image exists "$redis_image" || need+=(redis)
if [[ ${#need[@]} -eq 0 ]]; then
  echo "$postgres_image and $redis_image are present"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "debootstrap bookworm (minbase) for: ${need[*]}"
debootstrap --variant=minbase bookworm "$work/base" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
  || { tail -n 20 "$work/debootstrap.log"; exit 1; }
# Packages are installed with services forbidden to start (policy-rc.d): a postinst must not start a
# redis-server or a cluster on this host.
printf '#!/bin/sh\nexit 101\n' >"$work/base/usr/sbin/policy-rc.d"
chmod 755 "$work/base/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$work/base/etc/resolv.conf"
# Security and point-release updates too (debootstrap configures the release only).
cat >"$work/base/etc/apt/sources.list" <<'SOURCES'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
chroot "$work/base" apt-get update -qq >"$work/update.log" 2>&1 || { tail -n 20 "$work/update.log"; exit 1; }

# install_into ROOT PACKAGES...: apt-get install inside a copy of the base, then trim caches.
install_into() {
  local root=$1
  shift
  cp -a "$work/base" "$root"
  chroot "$root" apt-get install -y -qq --no-install-recommends "$@" >"$root.log" 2>&1 \
    || { tail -n 20 "$root.log"; exit 1; }
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root/usr/sbin/policy-rc.d"
  : >"$root/etc/resolv.conf"
}

if [[ " ${need[*]} " == *" postgres "* ]]; then
  root=$work/postgres
  install_into "$root" "postgresql-$pg_major" libnss-wrapper
  # The package's own cluster and config are not used: the image initialises $PGDATA itself.
  rm -rf "$root/var/lib/postgresql/$pg_major" "$root/etc/postgresql/$pg_major"
  # Writable by any UID, as in the official image (the manifests run it as 10002).
  mkdir -p "$root/var/lib/postgresql/data" "$root/var/run/postgresql" "$root/docker-entrypoint-initdb.d"
  chmod 1777 "$root/var/lib/postgresql/data"
  chmod 3777 "$root/var/run/postgresql"
  install -m 755 "$here/postgres-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
  tar -C "$root" -c . | podman import \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/lib/postgresql/$pg_major/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV PG_MAJOR=$pg_major" \
    --change 'ENV PGDATA=/var/lib/postgresql/data' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
    --change 'CMD ["postgres"]' \
    --change 'STOPSIGNAL SIGINT' \
    --change 'EXPOSE 5432' - "$postgres_image" >/dev/null
  echo "built $postgres_image (stand-in: postgresql-$pg_major $(chroot "$root" dpkg-query -W -f '${Version}' "postgresql-$pg_major") from Debian bookworm)"
fi

if [[ " ${need[*]} " == *" redis "* ]]; then
  root=$work/redis
  install_into "$root" redis-server
  mkdir -p "$root/data"
  chmod 1777 "$root/data"
  tar -C "$root" -c . | podman import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'WORKDIR /data' \
    --change 'CMD ["redis-server"]' \
    --change 'EXPOSE 6379' - "$redis_image" >/dev/null
  echo "built $redis_image (stand-in: redis-server $(chroot "$root" dpkg-query -W -f '${Version}' redis-server) from Debian bookworm)"
fi
