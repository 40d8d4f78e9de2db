#!/usr/bin/env bash
# Restore test (runs in the postgres image, next to a scratch PostgreSQL on 127.0.0.1): restore the
# newest dump into the scratch database, then compare every account's balance with the balances the
# backup wrote from the dump's own snapshot. The app container then runs `manage.py check_ledger`.
# Env: BACKUP_DIR (/backups), BACKUP_SCRIPTS (/scripts), RESTORE_DATABASE_URL (the scratch database).
set -euo pipefail
dir=${BACKUP_DIR:-/backups}
scripts=${BACKUP_SCRIPTS:-/scripts}
url=${RESTORE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/restore_test}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

dump=$(find "$dir" -maxdepth 1 -type f -name 'financetracker-*.dump' -printf '%T@ %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-)
[[ -n $dump ]] || { echo "restore test: no dump in $dir" >&2; exit 1; }
expected=${dump%.dump}.balances
[[ -f $expected ]] || { echo "restore test: $expected is missing" >&2; exit 1; }
if [[ -f ${dump%.dump}.sha256 ]]; then
  (cd "$dir" && sha256sum --check --quiet "$(basename "${dump%.dump}.sha256")")
fi
echo "restore test: $dump"
pg_restore --no-owner --no-acl --exit-on-error --dbname="$url" "$dump"
psql -X -q -v ON_ERROR_STOP=1 --dbname="$url" \
  -c "\\copy ($(tr '\n' ' ' <"$scripts/balances.sql")) TO '$work/restored.balances' WITH (FORMAT csv)"
if ! diff -u "$expected" "$work/restored.balances"; then
  echo "restore test FAILED: restored balances differ from the backup's (diff above)" >&2
  exit 1
fi
echo "restore test: $(wc -l <"$expected") account balances identical"
