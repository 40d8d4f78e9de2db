#!/usr/bin/env bash
# Nightly logical backup (runs in the postgres image). Order matters:
#   1. prune first (files older than BACKUP_RETENTION_DAYS, and partial files a killed run left), so a
#      full volume frees itself instead of failing every run from then on;
#   2. dump to a temporary name, verify it with pg_restore --list, then rename: a finished name is
#      always a complete dump, and a failure removes the temporary file (trap);
#   3. the per-account balances are written from the same snapshot as the dump (pg_export_snapshot),
#      so the restore test can compare them exactly.
# Env: BACKUP_DATABASE_URL (no password), DATABASE_PASSWORD_FILE, BACKUP_DIR (/backups),
#      BACKUP_RETENTION_DAYS (14), BACKUP_SCRIPTS (/scripts).
set -euo pipefail
dir=${BACKUP_DIR:-/backups}
keep=${BACKUP_RETENTION_DAYS:-14}
scripts=${BACKUP_SCRIPTS:-/scripts}
url=${BACKUP_DATABASE_URL:?BACKUP_DATABASE_URL must be set}
if [[ -n ${DATABASE_PASSWORD_FILE:-} ]]; then
  PGPASSWORD=$(cat "$DATABASE_PASSWORD_FILE")
  export PGPASSWORD
fi

echo "prune: partial files, then backups older than $keep days"
find "$dir" -maxdepth 1 -type f -name 'financetracker-*.partial' -print -delete
find "$dir" -maxdepth 1 -type f -name 'financetracker-*' -mtime +"$keep" -print -delete

base=$dir/financetracker-$(date -u +%Y%m%dT%H%M%SZ)
trap 'rm -f "$base.dump.partial" "$base.balances.partial"' EXIT

# One session holds a repeatable-read snapshot open; the balances and pg_dump both read it.
coproc SNAP { psql -X -q -A -t -v ON_ERROR_STOP=1 --dbname="$url"; }
# bash unsets SNAP_PID once the coprocess has exited, which it may do before `wait` runs: keep the pid.
snap_pid=$SNAP_PID
printf '%s\n' 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;' 'SELECT pg_export_snapshot();' >&"${SNAP[1]}"
read -r snapshot <&"${SNAP[0]}"
echo "snapshot $snapshot"
printf '%s\n' "\\copy ($(tr '\n' ' ' <"$scripts/balances.sql")) TO '$base.balances.partial' WITH (FORMAT csv)" '\echo balances-written' >&"${SNAP[1]}"
read -r marker <&"${SNAP[0]}"
[[ $marker == balances-written ]] || { echo "balances query failed: $marker" >&2; exit 1; }
pg_dump --format=custom --no-owner --snapshot="$snapshot" --dbname="$url" --file="$base.dump.partial"
printf '%s\n' 'COMMIT;' '\q' >&"${SNAP[1]}"
wait "$snap_pid"

pg_restore --list "$base.dump.partial" >/dev/null
mv "$base.balances.partial" "$base.balances"
mv "$base.dump.partial" "$base.dump"
(cd "$dir" && sha256sum "$(basename "$base.dump")" "$(basename "$base.balances")" >"$base.sha256")
echo "backup $base.dump: $(du -h "$base.dump" | cut -f1), $(wc -l <"$base.balances") account balances"
ls -lh "$dir"
