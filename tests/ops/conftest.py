"""Fixtures for the operations tests: scraping /metrics, capturing the real log handler's output."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from ledger.models import User
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


def scrape(client: Client | None = None) -> str:
    response = (client or Client()).get("/metrics")  # the test client's REMOTE_ADDR is 127.0.0.1
    assert response.status_code == 200, response.content
    return response.content.decode()


def sample_value(page: str, name: str, **labels: str) -> float:
    """The value of one sample (0 when absent), summed over samples whose labels include `labels`."""
    total = 0.0
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(key) == value for key, value in labels.items()):
                total += sample.value
    return total


@pytest.fixture
def metric() -> Callable[..., float]:
    def read(name: str, **labels: str) -> float:
        return sample_value(scrape(), name, **labels)

    return read


class LogCapture:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@pytest.fixture
def captured_logs() -> Iterator[LogCapture]:
    """Redirects the configured console handler (shared by root, django and financetracker.request), so
    the test sees exactly the bytes production writes to stdout."""
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler))
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield LogCapture(stream)
    finally:
        handler.setStream(previous)


@pytest.fixture
def person(db: None) -> User:
    return UserFactory(username="pat")
