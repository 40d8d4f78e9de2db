#!/usr/bin/env bash
# Checks and unit-tests the alert rules of deploy/kustomize/components/alerts with promtool:
# extracts spec.groups of the PrometheusRule into a plain rules file, then runs
# `promtool check rules` and `promtool test rules` (tests.yaml). Needs promtool (Debian: prometheus).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
component="$here/kustomize/components/alerts"
python="${PYTHON:-$here/../.venv/bin/python}"
[ -x "$python" ] || python=python3
command -v promtool >/dev/null || { echo "promtool not found (apt-get install prometheus)" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The PrometheusRule's spec is exactly a Prometheus rules file.
"$python" - "$component/prometheusrule.yaml" "$work/rules.yaml" <<'PY'
import sys, yaml
with open(sys.argv[1]) as source:
    rule = yaml.safe_load(source)
assert rule["kind"] == "PrometheusRule", rule["kind"]
with open(sys.argv[2], "w") as target:
    yaml.safe_dump({"groups": rule["spec"]["groups"]}, target, sort_keys=False)
PY
cp "$component/tests.yaml" "$work/tests.yaml"

promtool check rules "$work/rules.yaml"
promtool test rules "$work/tests.yaml"
