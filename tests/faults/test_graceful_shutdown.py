"""SIGTERM to gunicorn under a bounded stream of mixed requests: every request sent before the signal gets its
full, successful answer, the slow ones (a body still trickling in when the signal comes) included."""

from __future__ import annotations

import http.client
import itertools
import json
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.faults.stack import outage_stack
from tests.faults.throwaway import (
    Gunicorn,
    api_token,
    wait_for,
)

FAST_CLIENTS = 4
SLOW_CLIENTS = 2
SLOW_BODY_SECONDS = 3.0
AFTER_SIGNAL_SECONDS = 2.0
_names = itertools.count()


@dataclass
class Outcome:
    what: str
    sent_at: float  # monotonic time when the whole request had been written
    status: int | None = None
    error: str | None = None


@dataclass
class Run:
    port: int
    token: str
    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    slow_started: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))

    def record(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)


def fast_requests(run: Run) -> Iterator[tuple[str, str, bytes | None]]:
    while True:
        yield "GET", "/api/v1/accounts/", None
        yield "GET", "/api/v1/transactions/?ordering=-date", None
        yield "POST", "/api/v1/tags/", json.dumps({"name": f"fast-{next(_names)}"}).encode()
        yield "GET", "/api/v1/households/", None
        yield "GET", "/readyz", None


def one_request(run: Run, method: str, path: str, body: bytes | None, *, trickle: float = 0.0) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", run.port, timeout=30)
    outcome = Outcome(what=f"{'slow ' if trickle else ''}{method} {path}", sent_at=float("inf"))
    try:
        connection.putrequest(method, path)
        connection.putheader("Authorization", f"Bearer {run.token}")
        connection.putheader("Connection", "close")
        if body is not None:
            connection.putheader("Content-Type", "application/json")
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        if body is not None and trickle:
            run.slow_started.release()
            pieces = 10
            step = max(1, len(body) // pieces)
            for start in range(0, len(body), step):
                connection.send(body[start : start + step])
                time.sleep(trickle / pieces)
        elif body is not None:
            connection.send(body)
        outcome.sent_at = time.monotonic()
        response = connection.getresponse()
        response.read()
        outcome.status = response.status
    except (OSError, http.client.HTTPException) as error:
        outcome.error = f"{error.__class__.__name__}: {error}"
    finally:
        connection.close()
        run.record(outcome)


def fast_client(run: Run) -> None:
    for method, path, body in fast_requests(run):
        if run.stop.is_set():
            return
        one_request(run, method, path, body)


def slow_client(run: Run, number: int) -> None:
    # Whitespace after the JSON value keeps it valid while the body takes seconds to arrive.
    body = json.dumps({"name": f"slow-{number}"}).encode() + b" " * 200
    one_request(run, "POST", "/api/v1/tags/", body, trickle=SLOW_BODY_SECONDS)


@pytest.fixture
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    with outage_stack(tmp_path_factory.mktemp("graceful-shutdown"), workers=2, threads=4) as started:
        yield started.app


def test_sigterm_under_load_fails_no_request_sent_before_it(app: Gunicorn) -> None:
    assert app.process is not None
    run = Run(port=app.port, token=api_token(app.base))
    fast = [threading.Thread(target=fast_client, args=(run,), daemon=True) for _ in range(FAST_CLIENTS)]
    for thread in fast:
        thread.start()
    wait_for(lambda: len(run.outcomes) >= 20, "the stream to get going", seconds=60)
    slow = [threading.Thread(target=slow_client, args=(run, n), daemon=True) for n in range(SLOW_CLIENTS)]
    for thread in slow:
        thread.start()
    for _ in slow:
        assert run.slow_started.acquire(timeout=30)
    time.sleep(SLOW_BODY_SECONDS / 3)  # the slow bodies are part-way in

    signalled_at = time.monotonic()
    app.process.send_signal(signal.SIGTERM)
    time.sleep(AFTER_SIGNAL_SECONDS)  # the stream goes on against a server that is shutting down
    run.stop.set()
    for thread in fast + slow:
        thread.join(timeout=60)
        assert not thread.is_alive()
    assert app.process.wait(timeout=60) == 0, app.log()

    slow_ones = [outcome for outcome in run.outcomes if outcome.what.startswith("slow ")]
    # Sent before the signal, or (the slow ones) begun before it and still being written when it came.
    accepted = [outcome for outcome in run.outcomes if outcome.sent_at < signalled_at] + slow_ones
    failed = [outcome for outcome in accepted if outcome.error or outcome.status not in {200, 201}]
    assert len(accepted) >= 20
    assert failed == [], failed
    assert len(slow_ones) == SLOW_CLIENTS
    assert all(outcome.sent_at > signalled_at for outcome in slow_ones)  # they really straddled the signal
