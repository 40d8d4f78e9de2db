#!/usr/bin/env bash
# Plays the dev overlay under podman: the pods of the rendered manifests (kubectl kustomize
# overlays/dev), converted only where podman 4.3 cannot play a kind (deploy/podman/kube2podman.py;
# deploy/README.md, "Playing the dev overlay with podman", lists each conversion), on one podman network
# with a static IP per pod and the Services as /etc/hosts names. Then checks, against the played pods:
#   /readyz 200 on the app pod; the postgres-roles Job; a login (API token, a wrong password refused);
#   an import (an OFX from tests/uploads/corpus uploaded, previewed, committed, transactions and balance
#   checked); the post-scheduled Job; the backup (the postgres-backup CronJob's Job, once); the restore
#   test (the postgres-restore-test CronJob's Job: scratch PostgreSQL, balances compared, check_ledger);
#   and deploy/backup-restore.sh, the operator's drill, restoring into a scratch database on the played
#   PostgreSQL (check_ledger, verify_uploads, balances compared with the live database).
# Prints "PLAY OK" at the end. Tears down what it created (pods, volumes, network) on exit, success or
# not; PLAY_KEEP=1 leaves it running for a look (the next run removes it first).
#
# Needs root podman (deploy/local-python-base.sh sets it up) and kubectl; no registry: the PostgreSQL
# and Redis images are local stand-ins (deploy/podman/standin-images.sh), the app image is built here
# (the layers deploy/smoke-image.sh built are reused). Usage: deploy/podman-play.sh
set -euo pipefail

started=$(date +%s)
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=$repo/deploy/podman
subnet=${PLAY_SUBNET:-10.89.177.0/24}
network=ft-play
statement=$repo/tests/uploads/corpus/ofx/ofxparse-checking.ofx
statement_rows=3
statement_sum=-59.50 # tests/uploads/corpus/expected.toml
python=$repo/.venv/bin/python
[[ -x $python ]] || python=python3
work=$(mktemp -d)
chmod 700 "$work"

step() { printf '\n== %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }
fail() { echo "PLAY FAILED: $*" >&2; exit 1; }
# A Job that hangs (a Job's activeDeadlineSeconds is not enforced by podman) fails the play instead.
play() { timeout "${PLAY_STEP_TIMEOUT:-600}" "$python" "$tools/play.py" "$work/conv/plan.json" "$@"; }

teardown() {
  local code=$?
  if [[ -f $work/conv/plan.json ]]; then
    if [[ ${PLAY_KEEP:-} == 1 ]]; then
      echo "PLAY_KEEP=1: pods left running (podman pod ps); the next run removes them"
    else
      [[ $code -eq 0 ]] || podman pod ps >&2 || true
      podman volume unmount uploads >/dev/null 2>&1 || true
      play down || true
      podman network rm -f "$network" >/dev/null 2>&1 || true
    fi
  fi
  rm -rf "$work"
  exit "$code"
}
trap teardown EXIT

step "podman (runc, ulimits, catatonit for the pods' infra containers) and the python stand-in"
bash "$repo/deploy/local-python-base.sh"
if ! command -v catatonit >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq catatonit >/dev/null
fi

step "stand-in images for PostgreSQL and Redis (no registry here)"
bash "$tools/standin-images.sh"

step "render the dev overlay"
dev_secrets=$repo/deploy/kustomize/overlays/dev/secrets.env
[[ -f $dev_secrets ]] || cp "$repo/deploy/kustomize/overlays/dev/secrets.env.example" "$dev_secrets"
kubectl kustomize "$repo/deploy/kustomize/overlays/dev" >"$work/dev.yaml"
echo "$(grep -c '^kind:' "$work/dev.yaml") objects"

step "app image"
app_image=$("$python" -c '
import sys, yaml
images = {c["image"] for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "Deployment"
          for c in d["spec"]["template"]["spec"]["containers"] if "financetracker" in c["image"]}
(image,) = images
print(image)' "$work/dev.yaml")
podman build --isolation=chroot --pull=never -q -t "$app_image" "$repo" >/dev/null
echo "built $app_image"

step "convert for podman kube play"
"$python" "$tools/kube2podman.py" "$work/dev.yaml" "$work/conv" --subnet "$subnet"
"$python" - "$work/conv/plan.json" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
for w in plan["workloads"]:
    steps = ", ".join(f"{s['name']} ({s['role']})" for s in w["steps"])
    print(f"{w['source']:34} -> pod {w['pod']} {w['ip']}: {steps}")
print("volumes:", ", ".join(plan["volumes"]))
print("not played:", ", ".join(d["object"] for d in plan["dropped"]))
for note in plan["notes"]:
    print("note:", note)
PY
# Every image the converted pods use must be local: nothing can be pulled.
for image in $(grep -h '^ *image: ' "$work"/conv/*.yaml | awk '{print $2}' | sort -u); do
  podman image exists "$image" || fail "image $image is not in local storage"
done

step "remove what an earlier run left, create network $network ($subnet)"
play down
podman network rm -f "$network" >/dev/null 2>&1 || true
podman network create --subnet "$subnet" "$network" >/dev/null
podman kube play "$work/conv/volumes.yaml" >/dev/null

step "play the Deployments and StatefulSets, wait for their probes"
play up

step "app: /readyz"
app_ip=$(play ip Deployment/financetracker)
base=http://$app_ip:8000
for path in /healthz /readyz; do
  status=$(curl -sS -o "$work/body" -w '%{http_code}' "$base$path") || fail "GET $path: no answer"
  [[ $status == 200 ]] || fail "GET $path: HTTP $status: $(head -c 300 "$work/body")"
  echo "GET $path -> 200 $(head -c 200 "$work/body")"
done
app=$(play container Deployment/financetracker app)
[[ $(podman exec "$app" id -u) == 10001 ]] || fail "the app does not run as UID 10001"
podman exec "$app" touch /app/x 2>/dev/null && fail "the app's root filesystem is writable"
echo "app runs as UID 10001 on a read-only root"

step "Job postgres-roles (re-applies roles.sql with the Secret's password)"
play job CronJob/postgres-roles || fail "postgres-roles Job failed"

step "login and import through the API"
admin_password=play-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
podman exec -e DJANGO_SUPERUSER_PASSWORD="$admin_password" "$app" \
  python manage.py createsuperuser --noinput --username play-admin --email play-admin@example.com
"$python" "$tools/api_check.py" "$base" play-admin "$admin_password" "$statement" "$statement_rows" "$statement_sum"

step "Job post-scheduled"
play job CronJob/post-scheduled || fail "post-scheduled Job failed"

step "backup: the postgres-backup CronJob's Job, once"
play job CronJob/postgres-backup || fail "backup Job failed"
backups=$(podman volume inspect -f '{{.Mountpoint}}' postgres-backups)
ls -l "$backups"
dump=$(find "$backups" -maxdepth 1 -name 'financetracker-*.dump' | sort | tail -n 1)
[[ -n $dump && -s ${dump%.dump}.balances ]] || fail "no dump with balances on the postgres-backups volume"
find "$backups" -name '*.partial' | grep -q . && fail "partial files left on the volume"
echo "dump $(basename "$dump"), $(wc -l <"${dump%.dump}.balances") account balances"

step "restore test: the postgres-restore-test CronJob's Job (scratch PostgreSQL, balances, check_ledger)"
play job CronJob/postgres-restore-test || fail "restore-test Job failed"

step "operator drill: deploy/backup-restore.sh into a scratch database on postgres-0"
pg_ip=$(play ip StatefulSet/postgres)
secret() { grep "^$1=" "$dev_secrets" | cut -d= -f2-; }
superuser_url=postgres://postgres:$(secret POSTGRES_PASSWORD)@$pg_ip:5432/postgres
app_url=postgres://financetracker:$(secret DATABASE_PASSWORD)@$pg_ip:5432
psql "$superuser_url" -v ON_ERROR_STOP=1 -qc 'CREATE DATABASE financetracker_scratch OWNER financetracker'
uploads=$(podman volume inspect -f '{{.Mountpoint}}' uploads)
drill_env=(DEBUG=0 SECRET_KEY="play-drill-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" ALLOWED_HOSTS=localhost REDIS_URL= STORAGE_BACKEND=filesystem PYTHON="$python")
(cd "$repo" && env "${drill_env[@]}" DATABASE_URL="$app_url/financetracker" UPLOADS_ROOT="$uploads" \
  bash deploy/backup-restore.sh backup "$work/drill")
mkdir "$work/drill-uploads"
(cd "$repo" && env "${drill_env[@]}" DATABASE_URL="$app_url/financetracker_scratch" UPLOADS_ROOT="$work/drill-uploads" \
  bash deploy/backup-restore.sh restore "$work/drill")
balances=$(tr '\n' ' ' <"$repo/deploy/kustomize/base/backup/balances.sql")
psql "$app_url/financetracker" -XAtc "$balances" >"$work/live.balances"
psql "$app_url/financetracker_scratch" -XAtc "$balances" >"$work/scratch.balances"
diff -u "$work/live.balances" "$work/scratch.balances" || fail "restored balances differ from the live database"
[[ -s $work/live.balances ]] || fail "no account balances to compare"
echo "restored database: $(wc -l <"$work/live.balances") account balances identical to the live database"

echo
echo "PLAY OK in $(($(date +%s) - started)) s"
