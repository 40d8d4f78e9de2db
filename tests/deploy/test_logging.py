"""Log shipping (deploy/kustomize/logging): Fluent Bit tails the app namespace's container logs, lifts
the app's JSON fields, and writes to indices whose template maps level, logger and request_id as
keywords. The field names are checked against what the app's JsonFormatter really writes."""

from __future__ import annotations

import json
import logging
import re

import pytest

from financetracker.logging import JsonFormatter
from tests.deploy.manifests import KUSTOMIZE, Obj, config_map_file, container_named, one, render

LOGGING = KUSTOMIZE / "logging"


@pytest.fixture(scope="module")
def logging_objs() -> list[Obj]:
    objs, stderr = render(LOGGING)
    assert not stderr.strip(), stderr
    return objs


def conf_section(conf: str, kind: str, name: str) -> dict[str, str]:
    for block in re.split(r"^\[", conf, flags=re.M):
        header, _, body = block.partition("]\n")
        pairs = dict(
            line.split(None, 1) for line in body.splitlines() if line.strip() and not line.lstrip().startswith("#")
        )
        if header == kind and pairs.get("Name") == name:
            return pairs
    raise AssertionError(f"no [{kind}] {name}")


def test_fluent_bit_runs_on_every_node_reading_the_host_logs_read_only(logging_objs: list[Obj]) -> None:
    daemonset = one(logging_objs, "DaemonSet", "fluent-bit")
    template = daemonset["spec"]["template"]
    assert {"operator": "Exists"} in template["spec"]["tolerations"]
    container = container_named(template, "fluent-bit")
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/var/log"]["readOnly"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert "@sha256:" in container["image"]
    assert all(o["metadata"].get("namespace") in (None, "logging") for o in logging_objs)


def test_only_the_app_namespace_is_tailed_and_its_json_is_merged(logging_objs: list[Obj]) -> None:
    conf = config_map_file(logging_objs, "fluent-bit-config", "fluent-bit.conf")
    tail = conf_section(conf, "INPUT", "tail")
    assert tail["Path"] == "/var/log/containers/*_finance-tracker_*.log"
    assert tail["DB"].startswith("/var/fluent-bit/state/")  # offsets on the hostPath: no re-shipping
    kubernetes = conf_section(conf, "FILTER", "kubernetes")
    assert kubernetes["Merge_Log"] == "On" and "Merge_Log_Key" not in kubernetes  # fields at the top level
    output = conf_section(conf, "OUTPUT", "es")
    assert output["Logstash_Format"] == "On" and output["Logstash_Prefix"] == "${ELASTICSEARCH_INDEX_PREFIX}"


def test_the_index_template_maps_the_fields_the_app_writes(logging_objs: list[Obj]) -> None:
    env = next(o for o in logging_objs if o["metadata"]["name"].startswith("fluent-bit-env-"))["data"]
    template = json.loads(config_map_file(logging_objs, "elasticsearch-index-template", "index-template.json"))
    prefix = env["ELASTICSEARCH_INDEX_PREFIX"]
    assert template["index_patterns"] == [f"{prefix}-*"]
    mapping = template["template"]["mappings"]["properties"]
    for field in ("level", "logger", "request_id"):
        assert mapping[field]["type"] == "keyword", field

    record = logging.LogRecord("ledger.services", logging.WARNING, __file__, 1, "import %s failed", ("x",), None)
    record.request_id = "4f1c2a"
    line = json.loads(JsonFormatter().format(record))
    assert {"level", "logger", "request_id", "message"} <= set(line)
    assert set(line) <= set(mapping), f"unmapped fields: {set(line) - set(mapping)}"
    assert (line["level"], line["logger"], line["request_id"]) == ("WARNING", "ledger.services", "4f1c2a")


def test_the_template_job_puts_the_template_under_the_prefix(logging_objs: list[Obj]) -> None:
    job = one(logging_objs, "Job", "elasticsearch-index-template")
    script = container_named(job["spec"]["template"], "put-template")["args"][0]
    assert "/_index_template/$ELASTICSEARCH_INDEX_PREFIX" in script and "-X PUT" in script
