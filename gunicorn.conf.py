"""gunicorn settings; every value can be overridden from the environment (GUNICORN_*)."""

import os
import shutil
import tempfile
from pathlib import Path
from typing import Protocol

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# gthread that prefers to listen while it has a free thread, so the shared socket spreads connections over
# the workers and a saturated worker still drains the queue (financetracker/gunicorn_worker.py; bench/README.md).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "financetracker.gunicorn_worker.BalancedThreadWorker")
# Graceful shutdown: on SIGTERM, finish in-flight requests within this many seconds. The pod's
# terminationGracePeriodSeconds must exceed preStop sleep + graceful_timeout.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# Sized for a 2-core pod: one process per core (the GIL), a few threads each to overlap PostgreSQL waits.
# Idle keep-alive connections wait in the worker's poller, not in a thread.
# Longer than the ingress's upstream keep-alive (ingress-nginx: 60 s), so gunicorn never closes a
# connection the proxy is about to reuse (which the client would see as a 502).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
# One listening socket shared by the workers, not one per worker (reuse_port): with SO_REUSEPORT gunicorn 27
# gives each worker its own socket, and the connections the kernel has already queued on a worker's socket
# are reset when that worker stops: at every recycle under load and at SIGTERM (tests/faults/
# test_graceful_shutdown.py caught it). An even spread is not worth a dropped request; bench/README.md.
reuse_port = False
# Recycle workers now and then so a slow leak can never push a pod over its memory limit. A restart
# costs about one second of one core (importing Django and the apps); at 2000 a loaded worker
# restarted every second or two. 100k ± 10k: once a minute or less at the bench's highest rates,
# once a day or more at a household's, and the jitter keeps the two workers from restarting together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", str(max_requests // 10)))
# The root filesystem is read-only in the container: worker heartbeat files go to /dev/shm.
_SHARED_MEMORY = "/dev/shm"  # noqa: S108 - a tmpfs gunicorn itself recommends, not a predictable file
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", _SHARED_MEMORY if os.path.isdir(_SHARED_MEMORY) else None)
accesslog = "-"
errorlog = "-"
# The path without the query string (which may carry secrets) and our request id; the JSON formatter
# reads the atoms themselves, this format is only the fallback text.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms %({x-request-id}o)s'
# One JSON object a line on stdout for gunicorn's own and its access log; readable lines under DEBUG.
_log_formatter = (
    "financetracker.logging.ConsoleFormatter"
    if os.environ.get("DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}
    else "financetracker.logging.JsonFormatter"
)
# The same LOG_LEVEL as Django (financetracker/settings.py).
_log_level = (os.environ.get("LOG_LEVEL", "").strip() or "INFO").upper()
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "financetracker.logging.RequestContextFilter"}},
    "formatters": {"app": {"()": _log_formatter}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "app",
            "filters": ["request_context"],
        }
    },
    "root": {"level": _log_level, "handlers": ["stdout"]},
    "loggers": {
        # propagate=False: Django's LOGGING also puts a handler on root; one line per event.
        "gunicorn.error": {"level": _log_level, "handlers": ["stdout"], "propagate": False},
        # The access line is INFO: LOG_LEVEL=WARNING switches it off, like the app's own request line.
        "gunicorn.access": {"level": _log_level, "handlers": ["stdout"], "propagate": False},
    },
}
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
preload_app = False


# --- Prometheus multiprocess mode -----------------------------------------------------------------
# Each worker keeps its own counters; with PROMETHEUS_MULTIPROC_DIR set, prometheus_client writes them
# to files there and /metrics sums them. Several workers without it would make every scrape report a
# random worker's numbers, so a private temporary directory is made when none is configured.
_created_multiproc_dir: str | None = None
if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _created_multiproc_dir = tempfile.mkdtemp(prefix="financetracker-prometheus-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _created_multiproc_dir


def on_starting(server: object) -> None:
    """Start from an empty metrics directory: files of a previous run's workers would be summed in."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()


def post_worker_init(worker: object) -> None:
    """Move everything loaded at start (Django, the apps, their modules: ~100k objects) out of the
    garbage collector's view. Without it every full collection walked them all: a 95 ms pause about
    once in 40 list requests (bench/README.md)."""
    import gc

    gc.collect()
    gc.freeze()


class _Worker(Protocol):
    pid: int


def child_exit(server: object, worker: _Worker) -> None:
    """Drop a dead worker's live gauges; its counters stay in the files and keep counting in the sum."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server: object) -> None:
    if _created_multiproc_dir:
        shutil.rmtree(_created_multiproc_dir, ignore_errors=True)
