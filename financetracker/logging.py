"""Log formatting: one JSON object a line in production, readable lines under DEBUG.

Used by Django's LOGGING and by gunicorn's `logconfig_dict`, so this module imports only the stdlib
(and `financetracker.core.request_context`, which does too).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from financetracker.core.request_context import current_household_id, current_request_id, current_user_id

# Extra attributes a log call may attach that are safe to emit; anything else (e.g. Django's
# `request` object, whose repr has the query string) is dropped.
SAFE_EXTRA_FIELDS = ("method", "path", "status", "duration_ms", "remote_addr", "user_agent", "bytes")

# Last line of defence if a message ever carries a credential: bearer tokens, our API token secrets,
# session and CSRF cookies, password-ish key=value pairs.
_SECRET_PATTERNS = (
    (re.compile(r"(?i)\b(bearer|token|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 [redacted]"),
    (re.compile(r"\bft_[A-Za-z0-9_-]{16,}"), "[redacted]"),
    (re.compile(r"(?i)\b(sessionid|csrftoken|password|passwd|secret|api_key)=[^\s&;,]+"), r"\1=[redacted]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RequestContextFilter(logging.Filter):
    """Adds request_id, user_id and household_id from the request context to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # django.request logs 4xx/5xx after the middleware chain returned (and the context was
            # reset), but passes the request along.
            record.request_id = current_request_id() or getattr(getattr(record, "request", None), "request_id", None)
        if not hasattr(record, "user_id"):
            record.user_id = current_user_id()
        if not hasattr(record, "household_id"):
            record.household_id = current_household_id()
        return True


def _gunicorn_access_fields(record: logging.LogRecord) -> dict[str, Any]:
    """gunicorn passes its access-log atoms as the record's args; pick the safe ones.

    `U` is the path without the query string; `r` (the request line) and header atoms are never read.
    """
    atoms = record.args if isinstance(record.args, Mapping) else {}

    def atom(key: str) -> str | None:
        value = atoms.get(key)
        return None if value in (None, "-") else str(value)

    status = atom("s")
    duration = atom("M")
    return {
        "request_id": atom("{x-request-id}o"),
        "method": atom("m"),
        "path": atom("U"),
        "status": int(status) if status and status.isdigit() else status,
        "duration_ms": int(duration) if duration and duration.isdigit() else duration,
        "remote_addr": atom("h"),
        "bytes": atom("B"),
    }


def _is_gunicorn_access(record: logging.LogRecord) -> bool:
    return record.name == "gunicorn.access" and isinstance(record.args, dict)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: timestamp, level, logger, message, request context, safe extras."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        if _is_gunicorn_access(record):
            fields = _gunicorn_access_fields(record)
            payload["message"] = f"{fields['method']} {fields['path']} {fields['status']}"
            payload.update({key: value for key, value in fields.items() if value is not None})
        else:
            payload["message"] = redact(record.getMessage())
            for key in ("request_id", "user_id", "household_id", *SAFE_EXTRA_FIELDS):
                value = getattr(record, key, None)
                if value is not None:
                    payload[key] = value
        if record.exc_info:
            payload["exc_info"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            payload["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    """Readable lines for DEBUG: `time LEVEL logger [request id] message`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if _is_gunicorn_access(record):
            fields = _gunicorn_access_fields(record)
            record.msg = "%s %s %s %sms"
            record.args = (fields["method"], fields["path"], fields["status"], fields["duration_ms"])
            record.request_id = fields["request_id"] or "-"
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        return redact(super().format(record))
