"""The stack the outage tests run against: a Redis of their own, a started cluster holding the migrated
database (tests.faults.throwaway.migrated_postgres) and a real gunicorn with the outage settings, optionally
reaching Redis through a relay whose link a test can cut. Everything started is stopped again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.faults.throwaway import (
    DATABASE,
    OUTAGE_SETTINGS,
    Gunicorn,
    Partition,
    Postgres,
    RedisServer,
    api_token,
    app_env,
    migrated_postgres,
)


@dataclass
class OutageStack:
    redis: RedisServer
    postgres: Postgres
    app: Gunicorn
    token: str  # an API token of olivia's, fetched from the app
    link: Partition | None  # the relay between the app and Redis, when asked for

    @property
    def base(self) -> str:
        return self.app.base

    @property
    def relay(self) -> Partition:
        assert self.link is not None, "outage_stack(through_relay=True) starts the relay"
        return self.link

    def api(self, path: str = "/api/v1/accounts/", timeout: float = 15) -> requests.Response:
        return requests.get(f"{self.base}{path}", headers={"Authorization": f"Bearer {self.token}"}, timeout=timeout)


@contextmanager
def outage_stack(directory: Path, *, workers: int, threads: int, through_relay: bool = False) -> Iterator[OutageStack]:
    redis = RedisServer(directory / "redis")
    postgres: Postgres | None = None
    app: Gunicorn | None = None
    link: Partition | None = None
    try:
        redis.start()
        if through_relay:
            link = Partition(redis.port)
        postgres = migrated_postgres(redis.url)
        redis_url = f"redis://127.0.0.1:{link.port}/0" if link is not None else redis.url
        app = Gunicorn(
            app_env(postgres.url(DATABASE), directory / "uploads", redis_url=redis_url, **OUTAGE_SETTINGS),
            directory / "app",
            workers=workers,
            threads=threads,
        )
        app.start()
        yield OutageStack(redis=redis, postgres=postgres, app=app, token=api_token(app.base), link=link)
    finally:
        if app is not None:
            app.stop()
        if link is not None:
            link.close()
        redis.kill()
        if postgres is not None:
            postgres.cleanup()
