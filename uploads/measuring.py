"""Measuring an upload before anything is stored: declared size, streamed size, SHA-256, the head for sniffing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import IO

from django.core.exceptions import ValidationError

_SNIFF_BYTES = 8192
_READ_CHUNK = 1 << 20


class FileTooLargeError(ValidationError):
    pass


@dataclass
class Received:
    head: bytes
    sha256: str
    size: int


def measure(upload: IO[bytes], *, declared_size: int | None, limit: int, what: str) -> Received:
    """Refuse on the declared size before reading; then stream, counting and hashing, and stop at the limit."""
    if declared_size is not None and declared_size > limit:
        raise FileTooLargeError({"file": [f"{what} may be at most {limit} bytes; this one declares {declared_size}."]})
    upload.seek(0)
    digest = hashlib.sha256()
    size = 0
    head = b""
    while chunk := upload.read(_READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise FileTooLargeError({"file": [f"{what} may be at most {limit} bytes."]})
        if len(head) < _SNIFF_BYTES:
            head += chunk[: _SNIFF_BYTES - len(head)]
        digest.update(chunk)
    upload.seek(0)
    return Received(head=head, sha256=digest.hexdigest(), size=size)
