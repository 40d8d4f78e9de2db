"""The machinery of the import-format registry: what a format declares (StatementFormat, Option) and what is
derived from the declarations — detection from a file's bytes, the choice of a format at upload, option
validation, the choices the API, the admin and the command offer, and the formats table of the README.

The declarations themselves are in uploads.importers (FORMATS): adding a format is one StatementFormat there.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import IO, Any

from uploads import sniffing
from uploads.importers.base import ImportFileError, ParsedRow


@dataclass(frozen=True)
class Option:
    """One key of an import's mapping: its name, what it means, and which values it takes."""

    name: str
    help: str
    # What the value must be, said the way an error message says it ("a single character").
    expected: str
    valid: Callable[[Any], bool]

    def error(self, value: Any) -> str | None:
        # None and "" mean "not given: detect it", for every option.
        if value is None or value == "" or self.valid(value):
            return None
        return f"{self.name} must be {self.expected} (got {value!r})."


@dataclass(frozen=True)
class StatementFormat:
    """One statement format: its name (stored on the import), label, how it is recognised, its parser and
    the mapping options the parser reads."""

    name: str
    label: str
    description: str
    # "module:function"; the module is imported on first use, so a CSV import never loads ofxtools.
    parser_path: str
    # The content types (uploads.sniffing) whose files may be this format, and, when those types hold other
    # things too, the test of the file's first characters that says it is this one.
    content_types: frozenset[str] = frozenset()
    detects: Callable[[str], bool] | None = None
    options: tuple[Option, ...] = ()
    # A format whose files are another's (QFX is OFX with Quicken's tags): never detected on its own, and
    # accepted as the choice for a file detected as the other.
    variant_of: str | None = None
    # The admin asks for a column mapping before the preview, and a mapping may be saved as a CsvProfile.
    maps_columns: bool = False

    def parser(self) -> Callable[..., Iterator[ParsedRow]]:
        module, function = self.parser_path.split(":")
        parse: Callable[..., Iterator[ParsedRow]] = getattr(import_module(module), function)
        return parse

    def claims(self, content_type: str, text: str) -> bool:
        """Whether detection picks this format for a file of this content type and first characters."""
        if self.variant_of is not None or content_type not in self.content_types:
            return False
        return self.detects is None or self.detects(text)

    def option_errors(self, mapping: Mapping[str, Any]) -> list[str]:
        known = {option.name: option for option in self.options}
        errors = []
        for key, value in mapping.items():
            option = known.get(key)
            if option is None:
                takes = f"its options are {', '.join(known)}" if known else "it takes no options"
                errors.append(f"{self.label} files have no option {key!r}: {takes}.")
            elif (message := option.error(value)) is not None:
                errors.append(message)
        return errors


class FormatError(ValueError):
    """An upload's format cannot be settled: `field` is the upload's field at fault (file, format, mapping)."""

    def __init__(self, field: str, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.field = field
        self.messages = messages


class Registry:
    def __init__(
        self, formats: Iterable[StatementFormat], unsupported: Iterable[tuple[str, Callable[[str], bool]]] = ()
    ) -> None:
        # Statement formats we do not read, as (what the file is, its test of the first characters): refused
        # by name rather than taken for the text format they also are (an MT940 file reads as "CSV").
        self.unsupported = tuple(unsupported)
        self.formats: dict[str, StatementFormat] = {}
        for spec in formats:
            if spec.name in self.formats:
                raise ValueError(f"The import format {spec.name!r} is declared twice.")
            self.formats[spec.name] = spec
        for spec in self.formats.values():
            if spec.variant_of is not None and spec.variant_of not in self.formats:
                raise ValueError(f"{spec.name!r} is a variant of {spec.variant_of!r}, which is not declared.")

    def __getitem__(self, name: str) -> StatementFormat:
        return self.formats[name]

    def names(self) -> list[str]:
        return list(self.formats)

    def all(self) -> list[StatementFormat]:
        return list(self.formats.values())

    def choices(self) -> list[tuple[str, str]]:
        return [(spec.name, spec.label) for spec in self.formats.values()]

    def accepted(self) -> str:
        """The formats a statement may be in, as a person reads them: "CSV, OFX/QFX, QIF or CAMT.053"."""
        groups = [
            "/".join([spec.label, *(v.label for v in self.formats.values() if v.variant_of == spec.name)])
            for spec in self.formats.values()
            if spec.variant_of is None
        ]
        return groups[0] if len(groups) == 1 else f"{', '.join(groups[:-1])} or {groups[-1]}"

    def detect(self, head: bytes) -> StatementFormat:
        """The format of a statement file from its first bytes (4 KiB or more). Raises sniffing.RefusedFile."""
        content_type = sniffing.sniff(head)
        text = (sniffing.decode_head(head) or "")[:4000]
        for description, detects in self.unsupported:
            if detects(text):
                raise sniffing.RefusedFile(
                    f"The file is {description}, which cannot be imported: export the statement as "
                    f"{self.accepted()} instead."
                )
        candidates = [spec for spec in self.formats.values() if content_type in spec.content_types]
        matches = [spec for spec in candidates if spec.claims(content_type, text)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            names = " and ".join(spec.label for spec in matches)
            raise sniffing.RefusedFile(f"The file reads as {names}: choose its format.")
        if candidates:
            labels = " or ".join(spec.label for spec in candidates)
            kind = content_type.rsplit("/", 1)[-1].removeprefix("x-").upper()  # "application/xml": XML
            raise sniffing.RefusedFile(f"This {kind} file is not a {labels} statement.")
        raise sniffing.RefusedFile(f"Statements are {self.accepted()} files.")

    def for_upload(self, head: bytes, chosen: str | None) -> StatementFormat:
        """The format an upload is imported as: detected from its bytes, or the person's choice if it agrees
        (its mapping is checked with option_errors). Raises FormatError."""
        try:
            detected = self.detect(head)
        except sniffing.RefusedFile as error:
            raise FormatError("file", [str(error)]) from None
        spec = self.formats.get(chosen or detected.name)
        if spec is None:
            raise FormatError("format", [f"Choose one of {', '.join(self.formats)}."])
        if detected.name not in (spec.name, spec.variant_of):
            raise FormatError("format", [f"The file looks like {detected.name}, not {spec.name}."])
        return spec

    def parse(self, fmt: str, stream: IO[bytes], mapping: dict[str, Any] | None = None) -> Iterator[ParsedRow]:
        spec = self.formats.get(fmt)
        if spec is None:
            raise ImportFileError(f"Unknown format {fmt!r}.")
        parse = spec.parser()
        return parse(stream, mapping or {}) if spec.options else parse(stream)

    def markdown(self) -> str:
        """The README's table of formats and their options."""
        lines = ["| Format | `format` | Recognised | Options |", "|---|---|---|---|"]
        for spec in self.formats.values():
            recognised = f"as {self.formats[spec.variant_of].label}" if spec.variant_of else "by content"
            options = ", ".join(f"`{option.name}`" for option in spec.options) or "—"
            lines.append(f"| {spec.label}: {spec.description} | `{spec.name}` | {recognised} | {options} |")
        lines += ["", "| Option | Means | Value |", "|---|---|---|"]
        seen: set[str] = set()
        for spec in self.formats.values():
            for option in spec.options:
                if option.name not in seen:
                    seen.add(option.name)
                    lines.append(f"| `{option.name}` | {option.help} | {option.expected} |")
        return "\n".join(lines)


# --- value checks the declarations share -------------------------------------------------------------


def is_encoding(value: Any) -> bool:
    try:
        codecs.lookup(value)
    except (LookupError, TypeError):
        return False
    return True


def is_column(value: Any) -> bool:
    """A header name or a 0-based column index (as a number or digits)."""
    if isinstance(value, bool):
        return False
    return (isinstance(value, int) and value >= 0) or (isinstance(value, str) and bool(value.strip()))


def is_columns(value: Any) -> bool:
    return is_column(value) or (isinstance(value, list) and bool(value) and all(is_column(item) for item in value))


def is_words(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, str) and item.strip() for item in value)


def is_count(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return (isinstance(value, int) and value >= 0) or (isinstance(value, str) and value.isdigit())


def is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def one_of(*values: str) -> Callable[[Any], bool]:
    return lambda value: value in values
