"""Request body parsing that hostile input cannot turn into a 500.

JSON bodies are checked before they are decoded (nesting depth: Python's decoder recurses, so 10,000 nested
brackets would exhaust the stack) and after (NUL characters, which PostgreSQL cannot store in text or jsonb).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import accumulate
from typing import IO, Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import QueryDict
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.utils import json

MAX_JSON_DEPTH = 32
NUL_MESSAGE = "Text may not contain NUL characters (\\u0000)."

# A JSON string literal (escapes included), the only place brackets do not nest.
_STRING_LITERAL = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text: str) -> int:
    """How deeply the arrays and objects of a JSON text nest, counted without recursion."""
    brackets = _NOT_A_BRACKET.sub("", _STRING_LITERAL.sub("", text))
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def nul_path(data: Any) -> str | None:
    """The path ("conditions[0].value") of the first key or string holding a NUL character, if any."""
    pending: list[tuple[str, Any]] = [("", data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return path
        elif isinstance(value, Mapping):
            for key, item in value.items():
                key_path = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and "\x00" in key:
                    return key_path.replace("\x00", "\\u0000")
                pending.append((key_path, item))
        elif isinstance(value, list | tuple):
            pending.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
    return None


def refuse_nul(data: Any) -> None:
    """Raise a 400 naming the first field whose text (at any depth) holds a NUL character."""
    path = nul_path(data)
    if path is None:
        return
    field = re.split(r"[.\[]", path, maxsplit=1)[0] or "non_field_errors"
    message = NUL_MESSAGE if path == field else f"{NUL_MESSAGE[:-1]} (at {path})."
    raise serializers.ValidationError({field: [message]})


def loads_bounded(text: str) -> Any:
    """json.loads that refuses deep nesting, NaN/Infinity, and NUL characters anywhere, with a 400."""
    if json_depth(text) > MAX_JSON_DEPTH:
        raise ParseError(f"JSON nests deeper than {MAX_JSON_DEPTH} levels.")
    try:
        data = json.loads(text, parse_constant=json.strict_constant)
    except ValueError as error:
        raise ParseError(f"JSON parse error - {error}") from None
    refuse_nul(data)
    return data


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with the bounds of `loads_bounded`."""

    def parse(self, stream: IO[Any], media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError:
            raise ParseError(f"The body is not valid {encoding} text.") from None
        return loads_bounded(text)


class StrictFormParser(FormParser):
    """DRF's form parser without Django's guesses: a body that is not valid UTF-8 is read as Latin-1, and a
    percent-escape that decodes to no character (`caf%E9`, Latin-1's é) becomes U+FFFD; both stored a name
    other than the one sent. Here either is a 400, like a JSON body that is not UTF-8."""

    def parse(self, stream: IO[Any], media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        body = stream.read()
        data = QueryDict(body, encoding=encoding)  # the field-count limit first (TooManyFieldsSent)
        try:
            parse_qsl(body.decode(encoding), keep_blank_values=True, encoding=encoding, errors="strict")
        except UnicodeDecodeError:
            raise ParseError(f"The body is not valid {encoding} text (percent-escapes included).") from None
        return data
