"""The PrometheusRule's expressions are well formed, and every app-side metric they (and the
dashboard) reference really is on our /metrics page — a renamed metric must fail here, not in production."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client
from rest_framework.test import APIClient

from ledger.models import User
from tests.ops.conftest import scrape

ALERTS = Path(__file__).resolve().parents[2] / "deploy" / "kustomize" / "components" / "alerts"
# Metrics our app exports; everything else (kube-state-metrics, kubelet, up) comes from the cluster.
APP_PREFIXES = ("django_", "financetracker_")
PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
    "inf", "nan",
}  # fmt: skip


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((ALERTS / "prometheusrule.yaml").read_text())
    assert document["kind"] == "PrometheusRule"
    return [rule for group in document["spec"]["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((ALERTS / "dashboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def check_balanced(expr: str) -> None:
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    for char in re.sub(r'"(?:\\.|[^"\\])*"', '""', expr):
        if char in "([{":
            stack.append(char)
        elif char in pairs:
            assert stack and stack.pop() == pairs[char], f"unbalanced {char!r} in {expr}"
    assert not stack, f"unclosed {stack} in {expr}"


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers that are not functions, keywords or label names."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)  # string literals
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range durations
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)  # grouping labels
    names = set()
    for match in re.finditer(r"(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?", text):
        word, call = match.group(1), match.group(2)
        if not call and word.lower() not in PROMQL_WORDS and not re.fullmatch(r"\d+[smhdwy]", word):
            names.add(word)
    return names


@pytest.mark.parametrize("rule", rules(), ids=lambda rule: rule["alert"])
def test_each_alert_is_well_formed(rule: dict[str, Any]) -> None:
    assert re.fullmatch(r"Financetracker[A-Z]\w+", rule["alert"])
    assert rule["labels"]["severity"] in {"critical", "warning"}
    assert rule["annotations"]["summary"] and rule["annotations"]["description"]
    check_balanced(rule["expr"])
    assert metric_names(rule["expr"]), rule["expr"]


def test_the_metric_name_extraction_ignores_functions_labels_and_keywords() -> None:
    expr = 'sum by (le) (rate(a_bucket{view!~"x|y"}[5m])) / on() group_left sum(b_total offset 5m) > 0.5 and c == 0'
    assert metric_names(expr) == {"a_bucket", "b_total", "c"}


@pytest.mark.django_db
def test_every_app_metric_referenced_by_alerts_and_dashboard_is_exported(owner: User, client_for: Any) -> None:
    # Real traffic first: labelled counters appear on the page once they have a sample.
    api = client_for(owner)
    api.get("/api/v1/accounts/")
    api.get("/api/v1/transactions/999999/")
    Client().get("/healthz")
    APIClient().post("/api/v1/auth/token/", {"username": owner.username, "password": "wrong"}, format="json")
    page = scrape()
    exported = {line.split("{")[0].split(" ")[0] for line in page.splitlines() if line and not line.startswith("#")}
    declared = {line.split(" ")[2] for line in page.splitlines() if line.startswith("# TYPE ")}

    referenced = set()
    for expr in [rule["expr"] for rule in rules()] + dashboard_expressions():
        check_balanced(expr)
        referenced |= {name for name in metric_names(expr) if name.startswith(APP_PREFIXES)}
    assert referenced, "no app metric referenced at all?"
    # The alerts' metrics must have samples; the dashboard may chart counters not incremented yet
    # (imports, errors) as long as they are declared.
    alert_metrics = {name for rule in rules() for name in metric_names(rule["expr"]) if name.startswith(APP_PREFIXES)}
    assert alert_metrics - exported == set()
    missing = {name for name in referenced - exported if not any(name.startswith(family) for family in declared)}
    assert missing == set()
