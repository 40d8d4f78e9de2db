"""Throwaway servers for fault tests: PostgreSQL clusters, Redis and app servers of their own, on free
loopback ports and private directories, never the machine's shared services. Every one is stopped in a
`finally`, whatever the test did to it. A server can be paused (SIGSTOP: alive but silent), killed and
started again; a Partition drops the link to one while both ends stay up.

Under CI=true a missing program fails the test (tests.conftest.require_tool); elsewhere it skips.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PYTHON = sys.executable
# Every wait is bounded: a fault test that cannot make progress fails instead of hanging CI.
WAIT_SECONDS = 30
DRIVER = str(Path(__file__).with_name("import_driver.py"))
PASSWORD = "fault-test-password-9f2c"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Any, what: str, seconds: float = WAIT_SECONDS) -> Any:
    """Poll `predicate` until it returns something truthy; fail (not hang) after `seconds`.

    A connection error while polling (a server still starting, or paused) counts as "not yet".
    """
    deadline = time.monotonic() + seconds
    last: Any = None
    while True:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, requests.RequestException) as error:
            last = error
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what} (last: {last!r})")
        time.sleep(0.05)


class Postgres:
    """A PostgreSQL 15 cluster in a private directory, run as the unprivileged `postgres` user when we are root.

    The postmaster is our own child in a process group of its own: `crash()` SIGKILLs the postmaster alone
    (its backends notice and exit; the next start runs crash recovery), `kill()` the whole group at once (as
    the OOM killer or a lost node would), `freeze()`/`thaw()` pause and resume it (alive but silent).
    """

    def __init__(self, *, init: bool = True, settings: dict[str, str] | None = None) -> None:
        for program in ("initdb", "postgres"):
            require_tool(str(PG_BIN / program), install_hint="apt-get install postgresql-15 (or set PG_BIN)")
        # Not under pytest's tmp_path: that is private to root and postgres must traverse it.
        self.root = Path(tempfile.mkdtemp(prefix="ft-fault-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.settings = {
            "listen_addresses": "127.0.0.1",
            "max_connections": "40",
            "shared_buffers": "32MB",
            **(settings or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.as_user: dict[str, Any] = {}
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self.as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        if init:
            subprocess.run(
                [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"],
                check=True,
                capture_output=True,
                timeout=120,
                **self.as_user,
            )

    def url(self, dbname: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        """Start the postmaster and wait until it accepts connections (after replaying the WAL, if it crashed)."""
        options = [item for name, value in self.settings.items() for item in ("-c", f"{name}={value}")]
        with (self.root / "log").open("ab") as log:
            self.process = subprocess.Popen(
                [str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.root), *options],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: SIGSTOP/SIGKILL reach every backend too
                **self.as_user,
            )
        process = self.process
        wait_for(lambda: process.poll() is not None or self._accepts(), "PostgreSQL to accept connections", 60)
        if process.poll() is not None:
            raise AssertionError((self.root / "log").read_text(errors="replace")[-3000:])

    def _accepts(self) -> bool:
        try:
            psycopg.connect(self.url(), connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def crash(self) -> None:
        """SIGKILL the postmaster alone; its backends notice and exit; the next start runs crash recovery."""
        assert self.process is not None
        pid = self.process.pid
        children = [
            int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        ]
        os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=WAIT_SECONDS)
        wait_for(lambda: all(not _alive(child) for child in [pid, *children]), "PostgreSQL's backends to exit")
        self.process = None

    def _signal_group(self, number: int) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, number)

    def freeze(self) -> None:
        self._signal_group(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal_group(signal.SIGCONT)

    def kill(self) -> None:
        """Gone: postmaster and backends killed at once, as by the OOM killer or a lost node."""
        if self.process is not None and self.process.poll() is None:
            self._signal_group(signal.SIGCONT)
            self._signal_group(signal.SIGKILL)
            self.process.wait(timeout=10)
            wait_for(lambda: not self._group_alive(), "PostgreSQL backends to exit", 10)
        self.process = None

    def _group_alive(self) -> bool:
        assert self.process is not None
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self) -> None:
        """A clean fast shutdown (SIGINT to the postmaster): the data directory can then be copied."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=60)
        self.process = None

    def cleanup(self) -> None:
        """Thrown away: killed, whatever state a test left it in (paused included), and its directory removed."""
        self.kill()
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
        server.cleanup()


class RedisServer:
    def __init__(self, directory: Path) -> None:
        self.binary = require_tool("redis-server", install_hint="apt-get install redis-server")
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                *(self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
                *("--dir", str(self.directory), "--logfile", str(self.directory / "redis.log")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.ping, "redis-server")

    def ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """Lost: the process and everything it held are gone."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def _end(self, number: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a paused server must wake to act on SIGTERM
            self.process.send_signal(number)
            self.process.wait(timeout=10)
        self.process = None


@contextlib.contextmanager
def redis() -> Iterator[str]:
    """A started RedisServer in a private directory for the length of the block; its URL."""
    server = RedisServer(Path(tempfile.mkdtemp(prefix="ft-fault-redis-")))
    try:
        server.start()
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)


class Partition:
    """A TCP relay between the app and a server that can drop the link while both ends stay up.

    `cut()` stops relaying: bytes from the app are swallowed and nothing comes back (as when packets are
    dropped on the network), so unlike SIGSTOP no command is delivered later. `heal()` resets the held
    connections and relays again.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.cut_off = threading.Event()
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.open.add(client)
            if self.cut_off.is_set():
                threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=2)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.open.add(server)
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    def _swallow(self, client: socket.socket) -> None:
        while client.fileno() != -1:
            try:
                if not client.recv(65536):
                    return
            except OSError:
                return

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if not data:
                for sock in (source, target):
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                return
            if self.cut_off.is_set():
                continue  # dropped on the floor
            try:
                target.sendall(data)
            except OSError:
                return

    def cut(self) -> None:
        self.cut_off.set()

    def heal(self) -> None:
        with self.lock:
            held, self.open = self.open, set()
        for sock in held:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.cut_off.clear()

    def close(self) -> None:
        self.listener.close()
        self.heal()


# The outage stacks' app: plain HTTP on loopback (cookies without Secure, no HSTS), quiet logs, persistent
# connections (the outages under test break them), and DEBUG so the admin's static files are served without
# a collectstatic run (the manifest storage needs one); the outage answers under test do not depend on it.
OUTAGE_SETTINGS = {
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
    "LOG_LEVEL": "WARNING",
    "DEBUG": "1",
    "DATABASE_CONN_MAX_AGE": "60",
}


def app_env(database_url: str, uploads: Path, *, redis_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of an app process of ours: its own database, uploads (and Redis, if given), and no
    shared-service leftovers from the environment the tests run in."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("DATABASE_", "REDIS_", "CACHE_", "UPLOADS_", "STORAGE_", "S3_", "DJANGO_", "PYTEST", "METRICS_TOKEN")
        )
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
        }
    )
    if redis_url is not None:
        env.update({"REDIS_URL": redis_url, "CACHE_KEY_PREFIX": "ft-fault"})
    env.update(extra)
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
def gunicorn(env: dict[str, str], directory: Path, *, workers: int = 1, threads: int = 2) -> Iterator[str]:
    """A started Gunicorn for the length of the block (one worker, two threads unless told); its base URL."""
    server = Gunicorn(env, directory, workers=workers, threads=threads)
    try:
        server.start()
        yield server.base
    finally:
        server.stop()


def collect_static(env: dict[str, str], root: Path) -> dict[str, str]:
    """Production servers serve a manifest of hashed static files: collect the admin's (seconds, not the API docs')."""
    static_env = {**env, "STATIC_ROOT": str(root)}
    manage(static_env, "collectstatic", "--noinput", "-v", "0", "-i", "drf_spectacular_sidecar", "-i", "rest_framework")
    return static_env


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


DATABASE = "financetracker"


def prepare_database(postgres: Postgres, env: dict[str, str]) -> None:
    """An empty `financetracker` database, migrated, with one superuser `olivia` and her household."""
    postgres.create_database(DATABASE)
    manage(env, "migrate", "--no-input", "-v", "0", timeout=300)
    # Signed up as a person is (createsuperuser makes no household), then made a superuser.
    manage(
        {**env, "FT_PASSWORD": PASSWORD},
        "shell",
        "-c",
        "import os; from ledger.services.households import user_sign_up; "
        "user_sign_up(username='olivia', email='olivia@example.test', password=os.environ['FT_PASSWORD'], "
        "is_staff=True, is_superuser=True)",
        timeout=300,
    )


# The outage stacks' clusters: more connections (two workers' threads and the test's), no fsync (no OS
# crash is simulated there, and it saves minutes on a busy machine).
OUTAGE_POSTGRES = {"max_connections": "60", "fsync": "off"}
_template: Postgres | None = None


def _cleanup_template() -> None:
    if _template is not None:
        _template.cleanup()


def migrated_postgres(redis_url: str) -> Postgres:
    """A started cluster of its own holding the migrated database and `olivia`.

    The first call of a test process migrates a template cluster (minutes on a busy machine); later calls
    copy its stopped data directory, so each test module gets a fresh server for a few seconds.
    """
    global _template
    if _template is None:
        template = Postgres(settings=OUTAGE_POSTGRES)
        _template = template
        atexit.register(_cleanup_template)
        template.start()
        uploads = template.root / "uploads"
        prepare_database(template, app_env(template.url(DATABASE), uploads, redis_url=redis_url, **OUTAGE_SETTINGS))
        template.stop()
    server = Postgres(init=False, settings=OUTAGE_POSTGRES)
    shutil.copytree(_template.data, server.data, symlinks=True)
    if server.as_user:
        for path in [server.data, *server.data.rglob("*")]:
            os.chown(path, server.as_user["user"], server.as_user["group"], follow_symlinks=False)
    (server.data / "postmaster.pid").unlink(missing_ok=True)
    server.start()
    return server


class Gunicorn:
    """One app server on a free loopback port, its log and metrics in `directory`."""

    def __init__(self, env: dict[str, str], directory: Path, *, workers: int = 2, threads: int = 4) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.directory = directory
        self.env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_THREADS": str(threads),
            "GUNICORN_GRACEFUL_TIMEOUT": "20",
            "GUNICORN_TIMEOUT": "30",
            "GUNICORN_MAX_REQUESTS": "0",
            "PROMETHEUS_MULTIPROC_DIR": str(directory / "prometheus"),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                str(Path(PYTHON).parent / "gunicorn"),
                "-c",
                "gunicorn.conf.py",
                "--no-control-socket",  # each server its own: none shared in $HOME between servers
                "financetracker.wsgi:application",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=(self.directory / "gunicorn.log").open("ab"),
            stderr=subprocess.STDOUT,
        )

        def up() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError("gunicorn exited:\n" + self.log())
            return requests.get(f"{self.base}/healthz", timeout=2).status_code == 200

        wait_for(up, "gunicorn")

    def log(self) -> str:
        path = self.directory / "gunicorn.log"
        return path.read_text(errors="replace")[-5000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def admin_session(base: str, username: str = "olivia", password: str = PASSWORD) -> requests.Session:
    """A browser-like session signed in through the admin's login form (CSRF included)."""
    session = requests.Session()
    form = session.get(f"{base}/admin/login/", timeout=10)
    assert form.status_code == 200, form.text[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token, form.text[:500]
    response = session.post(
        f"{base}/admin/login/?next=/admin/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token.group(1), "next": "/admin/"},
        headers={"Referer": f"{base}/admin/login/"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:500]
    return session


def admin_logout(base: str, session: requests.Session) -> requests.Response:
    csrf = str(session.cookies.get("csrftoken") or "")
    return session.post(
        f"{base}/admin/logout/",
        data={"csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{base}/admin/", "X-CSRFToken": csrf},
        allow_redirects=False,
        timeout=10,
    )


def api_token(base: str, username: str = "olivia", password: str = PASSWORD) -> str:
    response = requests.post(
        f"{base}/api/v1/auth/token/", json={"username": username, "password": password, "name": "faults"}, timeout=10
    )
    assert response.status_code == 201, response.text[:500]
    return str(response.json()["token"])
