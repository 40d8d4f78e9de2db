"""gunicorn with two workers: /metrics sums every worker's counters (prometheus_client multiprocess
mode), and gunicorn's own access log is JSON too."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.mmap_dict import MmapedDict

from financetracker.metrics_view import metrics_registry
from tests.ops.conftest import sample_value

ROOT = Path(__file__).resolve().parents[2]
# Two workers of two threads each (the fixture): a burst of six holds more threads than one worker has.
BURST = 6
SLOW_REQUEST_PAUSE = 0.3
HEALTHZ_COUNTER = "django_http_responses_total_by_status_view_method_total"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Connection": "close", **(headers or {})})  # noqa: S310  (our own local server)
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return response.status, response.read().decode()


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    # One server for the module: starting two workers costs a few seconds.
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    port = free_port()
    multiproc_dir = tmp_path / "prometheus"
    log_path = tmp_path / "stdout.log"  # logs go to stdout; stderr (Python warnings) is kept apart
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("METRICS_TOKEN", "DEBUG"))},
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "2",
        "SECRET_KEY": "gunicorn-test-secret-key-0123456789abcdef0123456789",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/financetracker"),
    }
    with log_path.open("w") as log, (tmp_path / "stderr.log").open("w") as errors:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "-c",
                "gunicorn.conf.py",
                "financetracker.wsgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=errors,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    get(f"{base}/healthz")
                    break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise AssertionError(log_path.read_text() + (tmp_path / "stderr.log").read_text()) from None
                    time.sleep(0.2)
            yield base, multiproc_dir, log_path
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)


def slow_healthz(address: tuple[str, int]) -> int:
    """One /healthz whose headers arrive in two parts: gthread hands a connection to a thread when its first
    bytes arrive, so the request holds that thread for the pause."""
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(SLOW_REQUEST_PAUSE)
        sock.sendall(b"Connection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def healthz_served_by_worker(multiproc_dir: Path) -> Counter[str]:
    """Each worker's own count of /healthz responses, read from the file that worker writes."""
    served: Counter[str] = Counter()
    for path in multiproc_dir.glob("counter_*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        for key, value, _timestamp in MmapedDict(str(path), read_mode=True).read_all_values():
            _metric, sample, labels, _help = json.loads(key)
            if sample == HEALTHZ_COUNTER and labels.get("view") == "healthz":
                served[pid] += int(value)
    return served


def test_metrics_sum_the_counters_of_every_worker(gunicorn: tuple[str, Path, Path]) -> None:
    base, multiproc_dir, _log = gunicorn
    host, port = base.removeprefix("http://").split(":")
    before_page = sample_value(get(f"{base}/metrics")[1], HEALTHZ_COUNTER, view="healthz")
    before = healthz_served_by_worker(multiproc_dir)
    # Sequential requests may all land on one worker (whichever the kernel wakes), and the second worker
    # may still be loading Django. Bursts of more slow requests than one worker has threads: a worker
    # whose threads are all busy stops listening, so once both are up both serve.
    sent = 0
    deadline = time.monotonic() + 20
    with ThreadPoolExecutor(max_workers=BURST) as pool:
        while True:
            statuses = list(pool.map(lambda _: slow_healthz((host, int(port))), range(BURST)))
            assert statuses == [200] * BURST
            sent += BURST
            served = healthz_served_by_worker(multiproc_dir) - before
            if len(served) >= 2 or time.monotonic() > deadline:
                break
    # Both workers served some and wrote their own files; the page is their sum (no per-process python_*).
    assert len(served) >= 2, (served, sorted(multiproc_dir.iterdir()))
    assert sum(served.values()) == sent
    page = get(f"{base}/metrics")[1]
    assert sample_value(page, HEALTHZ_COUNTER, view="healthz") - before_page == sent
    assert "python_gc_objects_collected_total" not in page


def test_gunicorn_and_app_log_json_lines_with_the_request_id(gunicorn: tuple[str, Path, Path]) -> None:
    base, _dir, log_path = gunicorn
    get(f"{base}/healthz?token=query-secret", headers={"X-Request-ID": "gunicorn-rid-1"})
    deadline = time.monotonic() + 5
    lines: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]  # all JSON
        if any(line["logger"] == "gunicorn.access" and line.get("request_id") == "gunicorn-rid-1" for line in lines):
            break
        time.sleep(0.1)
    access = [line for line in lines if line.get("request_id") == "gunicorn-rid-1"]
    assert {line["logger"] for line in access} == {"gunicorn.access", "financetracker.request"}
    assert all(line["path"] == "/healthz" and line["status"] == 200 for line in access)
    assert "query-secret" not in log_path.read_text()


def test_a_scrape_while_a_worker_is_booting_sums_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A booting worker's file exists empty for a moment; prometheus_client's collector failed the whole
    # scrape on it (a 500 in CI). One worker's counter file with a value, one empty file beside it.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    written = MmapedDict(str(tmp_path / "counter_1.db"))
    written.write_value(
        json.dumps([HEALTHZ_COUNTER[: -len("_total")], HEALTHZ_COUNTER, {"view": "healthz"}, "h"]), 3.0, 0.0
    )
    written.close()
    (tmp_path / "counter_2.db").touch()

    page = generate_latest(metrics_registry()).decode()

    assert sample_value(page, HEALTHZ_COUNTER, view="healthz") == 3
