#!/usr/bin/env bash
# Builds the image from the project's Dockerfile with podman and runs it for real, the way the dev
# overlay runs it: read-only root, UID/GID 10001, configuration from the dev overlay's rendered
# ConfigMap, secrets as files under /var/run/secrets/financetracker. Needs PostgreSQL on
# 127.0.0.1:5432 (user postgres, trust auth) and Redis on 127.0.0.1:6379; creates database ft_smoke.
# Runs migrations in the container (the init container's advisory-locked script, then plain
# `manage.py migrate --noinput`, which must find nothing to do), starts gunicorn on 127.0.0.1:18080
# and checks /healthz, /readyz, /admin/login/ and a static file over HTTP.
#
# Needs root podman, set up by deploy/local-python-base.sh (a vendored copy of the workplace's
# shared/tools script); .ci/run calls it last. Usage: deploy/smoke-image.sh
set -euo pipefail

started=$(date +%s)
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
base_script=$repo/deploy/local-python-base.sh
image=${SMOKE_IMAGE:-localhost/financetracker:smoke}
port=${SMOKE_PORT:-18080}
db=${SMOKE_DATABASE:-ft_smoke}
name=ft-smoke-$$
work=$(mktemp -d)
python=$repo/.venv/bin/python
[[ -x $python ]] || python=python3

cleanup() {
  podman rm -f "$name" "$name-worker" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n== %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }
fail() { echo "SMOKE FAILED: $*" >&2; podman logs --tail 50 "$name" 2>/dev/null || true; exit 1; }

step "podman and the python:3.11-slim-bookworm stand-in"
[[ -f $base_script ]] || fail "$base_script not found"
bash "$base_script"

step "podman build $image"
podman build --isolation=chroot --pull=never -t "$image" "$repo"

step "database $db on 127.0.0.1:5432"
psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $db"

step "configuration from the dev overlay"
dev_secrets=$repo/deploy/kustomize/overlays/dev/secrets.env
[[ -f $dev_secrets ]] || cp "$repo/deploy/kustomize/overlays/dev/secrets.env.example" "$dev_secrets"
kubectl kustomize "$repo/deploy/kustomize/overlays/dev" >"$work/dev.yaml"
"$python" - "$work/dev.yaml" "$work/config.env" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
(cm,) = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("financetracker-config")]
with open(sys.argv[2], "w") as out:
    for key, value in sorted(cm["data"].items()):
        out.write(f"{key}={value}\n")
PY
# Only the addresses differ from the cluster: services on this host instead of cluster DNS names.
# The machine's services have no passwords: the password files are left out (empty *_FILE).
cat >>"$work/config.env" <<ENV
REDIS_URL=redis://127.0.0.1:6379/15
REDIS_PASSWORD_FILE=
DATABASE_URL=postgres://postgres@127.0.0.1:5432/$db
DATABASE_PASSWORD_FILE=
GUNICORN_BIND=127.0.0.1:$port
ENV
cat "$work/config.env"
mkdir -m 755 "$work/secrets"
printf 'smoke-test-secret-key-%s' "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$work/secrets/SECRET_KEY"
printf 'smoke-metrics-token' >"$work/secrets/METRICS_TOKEN"
chmod 444 "$work/secrets"/*

run_opts=(--read-only --user 10001:10001 --network host --env-file "$work/config.env"
  --tmpfs /tmp:rw,mode=1777 --tmpfs /tmp/prometheus:rw,mode=1777 --tmpfs /uploads:rw,mode=1777
  --tmpfs /var/spool/financetracker:rw,mode=1777
  -v "$work/secrets:/var/run/secrets/financetracker:ro")

step "migrations in the container"
podman run --rm "${run_opts[@]}" "$image" python /app/migrate_with_lock.py
podman run --rm "${run_opts[@]}" "$image" python manage.py migrate --noinput | tee "$work/migrate2.log"
grep -q "No migrations to apply" "$work/migrate2.log" || fail "second migrate still had work to do"

step "gunicorn on 127.0.0.1:$port (read-only root, UID 10001)"
podman run -d --name "$name" "${run_opts[@]}" "$image" >/dev/null
for _ in $(seq 1 60); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
  podman container exists "$name" || fail "container exited"
  sleep 0.5
done

check() { # check PATH EXPECTED_STATUS [TEXT]
  local path=$1 want=$2 text=${3:-} status
  status=$(curl -sS -o "$work/body" -w '%{http_code}' "http://127.0.0.1:$port$path") || fail "GET $path: no answer"
  [[ $status == "$want" ]] || fail "GET $path: HTTP $status, expected $want: $(head -c 300 "$work/body")"
  [[ -z $text ]] || grep -q "$text" "$work/body" || fail "GET $path: body lacks '$text'"
  echo "GET $path -> $status ok"
}
step "HTTP checks"
check /healthz 200 '"ok"'
check /readyz 200 '"status": "ok"'
check /admin/login/ 200 'csrfmiddlewaretoken'
check /static/admin/css/base.css 200
pid1=$(podman exec "$name" cat /proc/1/cmdline | tr '\0' ' ')
echo "PID 1: $pid1"
[[ $pid1 == *gunicorn* ]] || fail "PID 1 is not gunicorn"
[[ $(podman exec "$name" id -u) == 10001 ]] || fail "not running as UID 10001"
podman exec "$name" touch /app/x 2>/dev/null && fail "root filesystem is writable"
echo "root filesystem is read-only"

step "graceful stop"
podman stop -t 40 "$name" >/dev/null
echo "exit code $(podman inspect -f '{{.State.ExitCode}}' "$name")"

step "background worker (read-only root, UID 10001): batch run, then its probes as the Deployment declares them"
podman run --rm "${run_opts[@]}" "$image" python manage.py run_worker --batch
"$python" - "$work/dev.yaml" "$work" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
(worker,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "financetracker-worker"]
(container,) = worker["spec"]["template"]["spec"]["containers"]
for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
    open(f"{sys.argv[2]}/{probe}.py", "w").write(container[probe]["exec"]["command"][2])
PY
podman run -d --name "$name-worker" "${run_opts[@]}" "$image" python manage.py run_worker >/dev/null
for _ in $(seq 1 60); do
  podman exec "$name-worker" test -f /tmp/worker-health 2>/dev/null && break
  podman container exists "$name-worker" || fail "worker exited"
  sleep 0.5
done
for probe in startupProbe readinessProbe livenessProbe; do
  podman exec "$name-worker" python -c "$(cat "$work/$probe.py")" || fail "worker $probe fails"
  echo "worker $probe ok"
done
podman stop -t 30 "$name-worker" >/dev/null
[[ $(podman inspect -f '{{.State.ExitCode}}' "$name-worker") == 0 ]] || fail "the worker did not stop cleanly on SIGTERM"
echo "worker stopped cleanly on SIGTERM"

psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
echo
echo "SMOKE OK in $(($(date +%s) - started)) s"
