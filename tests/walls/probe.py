"""Calling a route as a persona, inside a savepoint that is rolled back, and reading what came back."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse

from tests.walls.world import World, fingerprint


class _RolledBack(Exception):
    pass


@dataclass
class Answer:
    status: int
    text: str  # body and headers, decoded
    body: str
    location: str  # where a redirect points
    changed: bool  # did the watched household's rows change?


def _read(response: HttpResponseBase) -> str:
    assert isinstance(response, HttpResponse | StreamingHttpResponse)
    return response.getvalue().decode("utf-8", "replace")


def call(
    send: Callable[[], HttpResponseBase], watch: int | None = None, baseline: Mapping[int, dict[str, str]] | None = None
) -> Answer:
    """Send one request and undo whatever it wrote, noting whether household `watch`'s rows changed.

    `baseline`: the households' fingerprints taken once before a run of calls. Every call is rolled back, so each
    starts from those rows and the fingerprint before it need not be read again (one statement per call fewer);
    the matrices check at their end that the rows are still exactly the baseline."""
    answer: Answer | None = None
    try:
        with transaction.atomic():
            if watch is None:
                before = None
            elif baseline is not None and watch in baseline:
                before = baseline[watch]
            else:
                before = fingerprint(watch)
            response = send()
            body = _read(response)
            headers = "\n".join(f"{k}: {v}" for k, v in response.items())
            changed = watch is not None and before is not None and fingerprint(watch) != before
            location = response.get("Location", "")
            answer = Answer(response.status_code, f"{headers}\n\n{body}", body, location, changed)
            raise _RolledBack
    except _RolledBack:
        pass
    assert answer is not None
    return answer


_VOLATILE = [
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"'), 'name="csrfmiddlewaretoken" value=""'),
    (re.compile(r'csrfToken: "[^"]+"'), 'csrfToken: ""'),
    (re.compile(r'"csrfToken": "[^"]+"'), '"csrfToken": ""'),
    # The CSP nonce of each response (the admin theme's inline style and htmx's configuration carry it).
    (re.compile(r'nonce="[^"]+"'), 'nonce=""'),
    (re.compile(r'"inline(Style|Script)Nonce": "[^"]+"'), r'"inline\1Nonce": ""'),
]


def normalized(body: str, ids: Iterable[int]) -> str:
    """A body with the ids it was asked about and per-request tokens blanked out, for differential comparison."""
    for pattern, replacement in _VOLATILE:
        body = pattern.sub(replacement, body)
    for value in sorted({str(i) for i in ids}, key=len, reverse=True):
        body = re.sub(rf"(?<![0-9]){value}(?![0-9])", "<id>", body)
    return body


def leaked(answer: Answer, world: World, persona: str) -> list[str]:
    """The markers of households the persona may not see that appear in the answer."""
    foreign = [world.ours, world.theirs] if persona == "anonymous" else [world.other_of(persona)]
    return [marker for seeded in foreign for marker in seeded.markers() if marker in answer.text]


def api_call(
    client: Any,
    method: str,
    url: str,
    body: dict[str, Any] | None = None,
    html: bool = False,
    watch: int | None = None,
    baseline: Mapping[int, dict[str, str]] | None = None,
) -> Answer:
    """An API request as JSON (or as the browsable HTML page, `html=True`), rolled back afterwards."""
    headers = {"HTTP_ACCEPT": "text/html"} if html else {}

    def send() -> HttpResponseBase:
        if method == "get":
            return client.get(url, **headers)
        return getattr(client, method)(url, data=json.dumps(body or {}), content_type="application/json", **headers)

    return call(send, watch, baseline)
