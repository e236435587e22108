"""What may be attached to a ticket: decided by the file's content, never by its name."""

from __future__ import annotations

import hashlib
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


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    size: int
    sha256: str


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
    """Size, content type and SHA-256 of an uploaded file, or ValidationFailed saying why."""
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
    digest = hashlib.sha256()
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    return CheckedFile(content_type=content_type, size=size, sha256=digest.hexdigest())
