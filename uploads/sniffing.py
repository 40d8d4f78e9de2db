"""Decide what a file is from its bytes (magic numbers), never from its name or the client's content type."""

from __future__ import annotations

import codecs
import re

# Formats that are refused wherever they arrive, whatever they are called.
_REFUSED_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "an ELF executable"),
    (b"\xca\xfe\xba\xbe", "a Mach-O or Java class file"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xfe\xed\xfa\xcf", "a Mach-O executable"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"#!", "a script"),
)
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1", b"avif"}
# Text may hold tabs, newlines and form feeds; any other C0 control byte means binary.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
WEBP = "image/webp"
HEIC = "image/heic"
HEIF = "image/heif"
OFX = "application/x-ofx"
QIF = "application/qif"
XML = "application/xml"
CSV = "text/csv"
TEXT = "text/plain"

ATTACHMENT_TYPES = {PDF, PNG, JPEG, WEBP, HEIC, HEIF, OFX, QIF, XML, CSV, TEXT}

EXTENSIONS = {
    PDF: ".pdf",
    PNG: ".png",
    JPEG: ".jpg",
    WEBP: ".webp",
    HEIC: ".heic",
    HEIF: ".heif",
    OFX: ".ofx",
    QIF: ".qif",
    XML: ".xml",
    CSV: ".csv",
    TEXT: ".txt",
}


class RefusedFile(ValueError):
    """The bytes are of a kind this application does not accept."""


def utf16_without_bom(head: bytes) -> str | None:
    """The codec of UTF-16 text without a BOM (every other byte NUL): "utf-16-le" or "utf-16-be"; else None."""
    sample = head[:512]
    sample = sample[: len(sample) - len(sample) % 2]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    # Latin-script text has a zero high byte in (nearly) every character, and no zero low byte.
    if odd.count(0) >= 0.9 * len(odd) and not even.count(0):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and not odd.count(0):
        return "utf-16-be"
    return None


def decode_head(head: bytes) -> str | None:
    """The first bytes as text (BOM-aware, and UTF-16 without one), or None when they are not text."""
    bomless_utf16 = utf16_without_bom(head)
    if bomless_utf16 is not None:
        text = head[: len(head) - (len(head) % 2)].decode(bomless_utf16, errors="ignore")
    elif head.startswith(codecs.BOM_UTF8):
        text = head[3:].decode("utf-8", errors="ignore")
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head[: len(head) - (len(head) % 2)].decode("utf-16", errors="ignore")
    else:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as error:
            # A multi-byte character cut at the end of the sample is still UTF-8.
            text = (
                head[: error.start].decode("utf-8")
                if error.start >= len(head) - 3
                else head.decode("cp1252", errors="replace")
            )
    if _CONTROL_CHARS.search(text):
        return None
    return text


def sniff(head: bytes) -> str:
    """The content type of a file from its first bytes (4 KiB or more). Raises RefusedFile."""
    if not head:
        raise RefusedFile("The file is empty.")
    for signature, description in _REFUSED_SIGNATURES:
        if head.startswith(signature):
            raise RefusedFile(f"The file is {description}, which is not accepted.")
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return HEIC if head[8:12].startswith(b"he") else HEIF
    text = decode_head(head)
    if text is None:
        raise RefusedFile("The file's type is not recognised (binary content).")
    stripped = text.lstrip()
    upper = stripped[:2000].upper()
    if upper.startswith("OFXHEADER") or "<OFX>" in upper or "<?OFX" in upper:
        return OFX
    if stripped.startswith("<"):
        return XML
    if _qif_start(upper):
        return QIF
    first_line = stripped.split("\n", 1)[0]
    if any(separator in first_line for separator in (",", ";", "\t", "|")):
        return CSV
    return TEXT


def _qif_start(upper: str) -> bool:
    # Some exporters put "#" comment lines before the first section header.
    lines = (line.strip() for line in upper.splitlines())
    first = next((line for line in lines if line and not line.startswith("#")), "")
    return first.startswith(("!TYPE:", "!ACCOUNT", "!OPTION", "!CLEAR:"))


_UNSAFE_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")


def clean_filename(name: str, *, default: str = "file") -> str:
    """A display name without path parts, control characters or characters filesystems dislike."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_NAME_CHARS.sub("", base).strip().strip(".")
    return base[:200] or default
