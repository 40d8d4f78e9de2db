#!/usr/bin/env bash
# Deployment checks, called by .ci/run: render every Kustomize overlay and every component
# combination, validate each render against the Kubernetes 1.32 schemas, scan base and overlays
# with checkov (zero failures allowed), lint the Dockerfile with hadolint.
#
# The tools live in their own virtualenv, .venv-deploy, installed from deploy/requirements-checks.lock
# (never in the app's .venv). The dev overlay needs the git-ignored overlays/dev/secrets.env; when it
# is missing (CI, fresh clones) this script copies secrets.env.example to it so the overlay renders.
#
# Usage: deploy/check.sh            (from anywhere; renders go to a temporary directory)
#        KEEP_RENDERS=dir deploy/check.sh   (also keep the rendered YAML in dir)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kdir=$repo/deploy/kustomize
venv=$repo/.venv-deploy
lock=$repo/deploy/requirements-checks.lock
k8s_version=1.32.0

log() { printf '\n== %s\n' "$*"; }

# --- tools -----------------------------------------------------------------------------------------
if [[ ! -x $venv/bin/python ]] || ! cmp -s "$lock" "$venv/.installed-lock"; then
  log "installing check tools into $venv from $lock"
  python3 -m venv "$venv"
  # Keep the venv out of git without touching the shared .gitignore.
  echo '*' >"$venv/.gitignore"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$lock"
  cp "$lock" "$venv/.installed-lock"
fi
command -v kubectl >/dev/null || { echo "kubectl (with kustomize) is required" >&2; exit 1; }

# --- inputs ----------------------------------------------------------------------------------------
dev_secrets=$kdir/overlays/dev/secrets.env
if [[ ! -f $dev_secrets ]]; then
  echo "overlays/dev/secrets.env is missing: copying secrets.env.example (placeholder values)"
  cp "$kdir/overlays/dev/secrets.env.example" "$dev_secrets"
fi

out=${KEEP_RENDERS:-$(mktemp -d)}
mkdir -p "$out"
[[ -n ${KEEP_RENDERS:-} ]] || trap 'rm -rf "$out"' EXIT

# render NAME DIR: kubectl kustomize DIR > $out/NAME.yaml, failing on any warning.
render() {
  local name=$1 dir=$2 err
  err=$(kubectl kustomize "$dir" 2>&1 >"$out/$name.yaml") || { echo "$err" >&2; echo "render of $dir failed" >&2; return 1; }
  if [[ -n $err ]]; then
    echo "$err" >&2
    echo "render of $dir printed warnings" >&2
    return 1
  fi
  echo "rendered $name ($(grep -c '^kind:' "$out/$name.yaml") objects)"
}

validate() {
  local file=$1 report
  # --strict fails on unknown fields; custom kinds only warn (tests/deploy validates the CloudNativePG
  # ones against the operator's CRD schemas).
  report=$("$venv/bin/kubernetes-validate" --strict -k "$k8s_version" "$file" 2>&1) || { echo "$report" >&2; return 1; }
  # Custom resources have no bundled schema: expected, so they are counted rather than printed.
  grep -v -e '^INFO' -e "Couldn't find schema for kind \($custom_kinds\)" <<<"$report" || true
  custom=$((custom + $(grep -c "Couldn't find schema for kind" <<<"$report" || true)))
}
custom=0
custom_kinds='ServiceMonitor\|PodMonitor\|PrometheusRule\|ExternalSecret\|Cluster\|Pooler\|ScheduledBackup\|ObjectStore'

# --- renders ---------------------------------------------------------------------------------------
log "render base and overlays"
render base "$kdir/base"
for overlay in "$kdir"/overlays/*/; do
  render "overlay-$(basename "$overlay")" "$overlay"
done
# The cluster-level log agent (its own namespace; validated, not scanned by checkov: a node agent needs
# the hostPath and root UID that checkov's pod rules forbid, see deploy/kustomize/logging).
render logging "$kdir/logging"

log "render base + each component, every pair of components, and all of them"
mapfile -t components < <(find "$kdir/components" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
# Generated kustomizations must sit inside deploy/kustomize (kustomize rejects absolute paths) at the
# same depth as the overlays, so ../../base resolves; the directory is removed on exit.
combos=$kdir/.check
rm -rf "$combos"
mkdir -p "$combos"
echo '*' >"$combos/.gitignore"
trap 'rm -rf "$combos"; [[ -n ${KEEP_RENDERS:-} ]] || rm -rf "$out"' EXIT
n=${#components[@]}
# Components interact in pairs (one patches what another adds); every pair plus the full set covers
# that without rendering all 2^n subsets (which grows past 250 renders with 8 components).
masks=()
for ((i = 0; i < n; i++)); do
  masks+=($((1 << i)))
  for ((j = i + 1; j < n; j++)); do masks+=($(((1 << i) | (1 << j)))); done
done
masks+=($(((1 << n) - 1)))
for mask in "${masks[@]}"; do
  name=with
  dir=$combos/$mask
  mkdir -p "$dir"
  {
    echo "apiVersion: kustomize.config.k8s.io/v1beta1"
    echo "kind: Kustomization"
    echo "namespace: finance-tracker"
    echo "resources:"
    echo "  - ../../base"
    echo "components:"
    for ((i = 0; i < n; i++)); do
      if ((mask & (1 << i))); then
        echo "  - ../../components/${components[i]}"
        name+="-${components[i]}"
      fi
    done
  } >"$dir/kustomization.yaml"
  render "$name" "$dir"
done
# Each overlay with each component it does not already include.
for overlay in "$kdir"/overlays/*/; do
  for component in "${components[@]}"; do
    grep -q "components/$component\$" "$overlay/kustomization.yaml" && continue
    dir=$combos/$(basename "$overlay")-$component
    mkdir -p "$dir"
    # A copy of the overlay (same depth, so its ../../ paths still resolve) plus the extra component.
    cp -r "$overlay". "$dir/"
    if grep -q '^components:' "$dir/kustomization.yaml"; then
      sed -i "s#^components:#components:\n  - ../../components/$component#" "$dir/kustomization.yaml"
    else
      printf 'components:\n  - ../../components/%s\n' "$component" >>"$dir/kustomization.yaml"
    fi
    render "overlay-$(basename "$overlay")-with-$component" "$dir"
  done
done

log "kubernetes-validate --strict -k $k8s_version"
for file in "$out"/*.yaml; do
  validate "$file"
done
echo "validated $(find "$out" -maxdepth 1 -name '*.yaml' | wc -l) renders ($custom custom-resource objects without a bundled schema)"

# --- security scan ---------------------------------------------------------------------------------
log "checkov (base and overlays; skips only as checkov.io/skipN annotations)"
for file in "$out"/base.yaml "$out"/overlay-*.yaml; do
  [[ $file == */logging.yaml ]] && continue
  [[ $file == *-with-* ]] && continue
  summary=$(BC_SKIP_MAPPING=TRUE "$venv/bin/checkov" -f "$file" --framework kubernetes \
    --skip-download --compact --quiet 2>&1) || { echo "$summary" >&2; echo "checkov failed on $(basename "$file")" >&2; exit 1; }
  echo "$(basename "$file"): $(grep -m1 'Passed checks' <<<"$summary")"
done

# --- Dockerfile ------------------------------------------------------------------------------------
log "hadolint Dockerfile"
"$venv/bin/hadolint" "$repo/Dockerfile"
echo "hadolint: no findings"

log "deploy checks passed"
