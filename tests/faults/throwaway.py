"""Throwaway servers for fault tests: a PostgreSQL cluster, a Redis and app servers of their own, on free
loopback ports and private directories, never the machine's shared services. Every one is stopped in a
`finally`, whatever the test did to it.

Under CI=true a missing program fails the test (tests.conftest.require_tool); elsewhere it skips.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PYTHON = sys.executable
# Every wait is bounded: a fault test that cannot make progress fails instead of hanging CI.
WAIT_SECONDS = 30
DRIVER = str(Path(__file__).with_name("import_driver.py"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Any, what: str, seconds: float = WAIT_SECONDS) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _as_postgres(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: as root, run it as the `postgres` system user.
    if os.geteuid() == 0:
        return [require_tool("runuser", install_hint="apt-get install util-linux"), "-u", "postgres", "--", *command]
    return command


class Postgres:
    """One cluster in a private directory: start, SIGKILL the postmaster (a crash), start again (recovery)."""

    def __init__(self) -> None:
        for program in ("initdb", "pg_ctl", "postgres"):
            require_tool(str(PG_BIN / program), install_hint="apt-get install postgresql-15 (or set PG_BIN)")
        # Not under pytest's tmp_path: the postgres user must be able to reach it.
        self.root = Path(tempfile.mkdtemp(prefix="ft-fault-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        subprocess.run(
            _as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]),
            check=True,
            capture_output=True,
            timeout=WAIT_SECONDS,
        )

    def url(self, dbname: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        """Run the postmaster as our own child (so a killed one is reaped), and wait until it accepts connections."""
        self._log = (self.root / "log").open("a")
        self.process = subprocess.Popen(
            _as_postgres(
                [
                    str(PG_BIN / "postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.root),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "max_connections=40",
                    "-c",
                    "shared_buffers=32MB",
                ]
            ),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        # Crash recovery replays the WAL before the first connection is accepted.
        wait_for(lambda: self.process.poll() is not None or self._accepts(), "PostgreSQL to accept connections", 60)
        if self.process.poll() is not None:
            raise AssertionError((self.root / "log").read_text()[-3000:])

    def _accepts(self) -> bool:
        try:
            psycopg.connect(self.url(), connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def crash(self) -> None:
        """SIGKILL the postmaster; its backends notice and exit; the next start runs crash recovery."""
        pid = self.postmaster_pid()
        children = [
            int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        ]
        os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=WAIT_SECONDS)
        wait_for(lambda: all(not _alive(child) for child in [pid, *children]), "PostgreSQL's backends to exit")

    def stop(self) -> None:
        process = getattr(self, "process", None)
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError, ValueError, OSError):
                os.kill(self.postmaster_pid(), signal.SIGQUIT)  # immediate shutdown: it is thrown away anyway
            try:
                process.wait(timeout=WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if getattr(self, "_log", None) is not None:
            self._log.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def connect(self, dbname: str) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url(dbname), autocommit=True, connect_timeout=5)

    def create_database(self, name: str) -> None:
        with self.connect("postgres") as conn:
            conn.execute(f'CREATE DATABASE "{name}"')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of ours counts as gone.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return False
    return True


@contextlib.contextmanager
def postgres() -> Iterator[Postgres]:
    server = Postgres()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def redis() -> Iterator[str]:
    program = require_tool("redis-server", install_hint="apt-get install redis-server")
    directory = Path(tempfile.mkdtemp(prefix="ft-fault-redis-"))
    port = free_port()
    process = subprocess.Popen(
        [
            program,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _connects(port), "Redis to listen")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


def _connects(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def app_env(database_url: str, uploads: Path, **extra: str) -> dict[str, str]:
    """The environment of an app process of ours: its own database, uploads, and no shared-service leftovers."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "REDIS_", "CACHE_", "UPLOADS_", "STORAGE_", "S3_", "DJANGO_", "PYTEST"))
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "UPLOADS_ROOT": str(uploads),
            "SECRET_KEY": "fault-tests-secret-key-0123456789abcdef0123456789abcdef",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "DEBUG": "0",
            "PYTHONPATH": str(ROOT),
            **extra,
        }
    )
    return env


def manage(
    env: dict[str, str], *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def drive(env: dict[str, str], *steps: str) -> list[dict[str, Any]]:
    """Run import steps ("commit:7", "check", …) in one process of their own; one outcome per step."""
    result = subprocess.run([PYTHON, DRIVER, *steps], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    marker = "outcome: "
    return [json.loads(line[len(marker) :]) for line in result.stdout.splitlines() if line.startswith(marker)]


@contextlib.contextmanager
def gunicorn(env: dict[str, str], log: Path) -> Iterator[str]:
    """One app server (one worker, two threads) on a free loopback port; its base URL."""
    port = free_port()
    server_env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "2"}
    server_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log.open("w") as output:
        process = subprocess.Popen(
            # Each server its own: no control socket shared in $HOME between servers.
            [
                str(Path(PYTHON).parent / "gunicorn"),
                "-c",
                "gunicorn.conf.py",
                "--no-control-socket",
                "financetracker.wsgi:application",
            ],
            cwd=ROOT,
            env=server_env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: process.poll() is not None or _healthy(base), "gunicorn to answer /healthz")
            if process.poll() is not None:
                raise AssertionError(log.read_text())
            yield base
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def collect_static(env: dict[str, str], root: Path) -> dict[str, str]:
    """Production servers serve a manifest of hashed static files: collect the admin's (seconds, not the API docs')."""
    static_env = {**env, "STATIC_ROOT": str(root)}
    manage(static_env, "collectstatic", "--noinput", "-v", "0", "-i", "drf_spectacular_sidecar", "-i", "rest_framework")
    return static_env


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310 - our own loopback server
            return bool(response.status == 200)
    except OSError:
        return False


TEMPLATE = "ft_template"


@pytest.fixture(scope="session")
def fault_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    """One throwaway cluster for the fault tests, with a migrated template database each test copies."""
    with postgres() as server:
        server.create_database(TEMPLATE)
        manage(app_env(server.url(TEMPLATE), tmp_path_factory.mktemp("template-uploads")), "migrate", "-v", "0")
        yield server


def fresh_database(cluster: Postgres, name: str) -> str:
    """A migrated database of its own (a copy of the template: a fraction of a second, not a migrate)."""
    with cluster.connect("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    return cluster.url(name)
