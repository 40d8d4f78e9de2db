#!/usr/bin/env bash
# Back up and restore financetracker: the database (pg_dump, custom format) and the uploads directory,
# which lives outside the database. The restore drill (tests/faults/test_backup_restore.py) runs exactly
# these commands, and deploy/README.md ("Backup and restore") tells operators to run them.
#
#   deploy/backup-restore.sh backup  DIR   # DIR/financetracker.dump, DIR/uploads.tar, DIR/SHA256SUMS
#   deploy/backup-restore.sh restore DIR   # into $DATABASE_URL (empty or not) and $UPLOADS_ROOT, then verify
#   deploy/backup-restore.sh verify        # check_ledger + verify_uploads against the running configuration
#
# Environment: DATABASE_URL (postgres://…), UPLOADS_ROOT (filesystem storage; with STORAGE_BACKEND=s3 the
# bucket's own versioning/replication is the uploads backup and only the database is handled here),
# PYTHON (default: python), run from the project root (where manage.py is).
set -euo pipefail

usage() { sed -n '5,7p' "$0" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
: "${DATABASE_URL:?DATABASE_URL must name the database}"
PYTHON=${PYTHON:-python}
STORAGE_BACKEND=${STORAGE_BACKEND:-filesystem}

verify() {
    "$PYTHON" manage.py check_ledger
    "$PYTHON" manage.py verify_uploads
}

case "$1" in
backup)
    [[ $# -eq 2 ]] || usage
    dir=$2
    mkdir -p "$dir"
    # One consistent snapshot of the database first; files are stored before their rows commit and removed
    # only after their rows are gone, so a copy of the uploads taken afterwards holds every file the dump names
    # (unless one was deleted in between: verify_uploads after a restore reports any such file).
    pg_dump --format=custom --no-owner --no-privileges --dbname="$DATABASE_URL" --file="$dir/financetracker.dump"
    pg_restore --list "$dir/financetracker.dump" >/dev/null
    files=(financetracker.dump)
    if [[ $STORAGE_BACKEND == filesystem ]]; then
        : "${UPLOADS_ROOT:?UPLOADS_ROOT must name the uploads directory}"
        mkdir -p "$UPLOADS_ROOT"
        tar -C "$UPLOADS_ROOT" -cf "$dir/uploads.tar" .
        files+=(uploads.tar)
    fi
    (cd "$dir" && sha256sum "${files[@]}" >SHA256SUMS)
    echo "backup written to $dir: ${files[*]}"
    ;;
restore)
    [[ $# -eq 2 ]] || usage
    dir=$2
    (cd "$dir" && sha256sum --check --quiet SHA256SUMS)
    # Drops and recreates every object of the dump; all or nothing.
    pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
        --dbname="$DATABASE_URL" "$dir/financetracker.dump"
    if [[ $STORAGE_BACKEND == filesystem ]]; then
        : "${UPLOADS_ROOT:?UPLOADS_ROOT must name the uploads directory}"
        mkdir -p "$UPLOADS_ROOT"
        tar -C "$UPLOADS_ROOT" -xf "$dir/uploads.tar"
    fi
    verify
    ;;
verify)
    verify
    ;;
*)
    usage
    ;;
esac
