"""What may be attached to a ticket: decided by the file's content, never by its name."""

from __future__ import annotations

import hashlib
import unicodedata
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from servicedesk.exceptions import ValidationFailed

# (magic prefix, content type). Office documents are ZIP containers.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
)
_MARKUP_HINTS = (b"<!doctype", b"<html", b"<svg", b"<script", b"<?xml", b"<body", b"<iframe")


# The extensions a file of each type may keep; any other gets the first one appended, so a
# text file called "page.html" downloads as "page.html.txt" and opens as text, not as a page.
_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg", "jpe"),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "application/pdf": ("pdf",),
    "application/zip": ("zip", "docx", "xlsx", "pptx", "odt", "ods", "odp"),
    "text/plain": ("txt", "log", "csv", "tsv", "md", "json", "ini", "cfg", "conf"),
}
MAX_NAME_LENGTH = 255
# Archives may hold many files but not a flood of entries meant to exhaust a reader.
MAX_ARCHIVE_ENTRIES = 10_000
# Small entries compress extremely well for innocent reasons (empty XML parts); the ratio
# is only judged on entries and archives that expand to more than this.
_RATIO_FLOOR_BYTES = 1024 * 1024


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    size: int
    sha256: str
    name: str = "file"


def safe_file_name(raw: str | None, content_type: str) -> str:
    """A name safe to store and to send back in Content-Disposition.

    Only the last path component is kept (no ``../../etc/passwd``), control characters
    (NUL, newlines) and leading dots go, it is cut to 255 characters keeping the extension,
    and the extension must fit the content: a PNG named ``x.html`` becomes ``x.html.png``.
    """
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if not unicodedata.category(char).startswith("C"))
    name = " ".join(name.split()).lstrip(". ")
    allowed = _EXTENSIONS.get(content_type, ())
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    if extension.lower() not in allowed:
        stem, extension = name, (allowed[0] if allowed else "")
    stem = stem or "file"
    suffix = f".{extension}" if extension else ""
    return stem[: MAX_NAME_LENGTH - len(suffix)] + suffix


def _check_archive(uploaded, size: int) -> None:
    """Refuse a zip bomb by the sizes the archive declares: it is never unpacked here, but
    whoever downloads it (or an Office program opening a .docx) would unpack it."""
    limit = settings.MAX_UNPACKED_BYTES
    ratio = settings.MAX_COMPRESSION_RATIO
    uploaded.seek(0)
    try:
        with zipfile.ZipFile(uploaded) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
        message = _("The archive is damaged and cannot be read.")
        raise ValidationFailed(message, fields={"file": [message]}) from None
    unpacked = sum(entry.file_size for entry in entries)
    suspicious = any(
        entry.file_size > _RATIO_FLOOR_BYTES
        and entry.file_size > ratio * max(entry.compress_size, 1)
        for entry in entries
    ) or (unpacked > _RATIO_FLOOR_BYTES and unpacked > ratio * size)
    if len(entries) > MAX_ARCHIVE_ENTRIES or unpacked > limit or suspicious:
        message = _(
            "The archive would unpack to %(size)s MB in %(count)s files; archives may hold "
            "up to %(limit)s MB and compress at most %(ratio)s times."
        ) % {
            "size": round(unpacked / 1_048_576, 1),
            "count": len(entries),
            "limit": round(limit / 1_048_576),
            "ratio": ratio,
        }
        raise ValidationFailed(message, fields={"file": [message]})


def sniff_content_type(head: bytes) -> str | None:
    """The content type ``head`` really is, or ``None`` when it is not one we accept.

    Markup (HTML, SVG, XML) is refused even when it calls itself text: a browser could run it.
    """
    for magic, content_type in _SIGNATURES:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    lowered = head.lstrip().lower()
    if any(hint in lowered for hint in _MARKUP_HINTS):
        return None
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(head) - 4:
            return None
    return "text/plain"


def check_upload(uploaded) -> CheckedFile:
    """Size, content type, SHA-256 and a safe name of an uploaded file, or ValidationFailed
    saying why. The type comes from the bytes (magic numbers), never from the name."""
    size = uploaded.size or 0
    if size <= 0:
        raise ValidationFailed(_("The file is empty."), fields={"file": [_("The file is empty.")]})
    limit = settings.MAX_UPLOAD_BYTES
    if size > limit:
        message = _("The file is %(size)s MB; the limit is %(limit)s MB.") % {
            "size": round(size / 1_048_576, 1),
            "limit": round(limit / 1_048_576, 1),
        }
        raise ValidationFailed(message, fields={"file": [message]})
    uploaded.seek(0)
    head = uploaded.read(2048)
    content_type = sniff_content_type(head)
    if content_type is None:
        message = _("Only images, PDF, plain text and office documents can be attached.")
        raise ValidationFailed(message, fields={"file": [message]})
    if content_type == "application/zip":
        _check_archive(uploaded, size)
    digest = hashlib.sha256()
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    return CheckedFile(
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
        name=safe_file_name(getattr(uploaded, "name", ""), content_type),
    )
