"""Serving an attachment: the same safe response for the API and the HTML pages."""

from __future__ import annotations

from django.http import FileResponse
from django.utils.translation import gettext as _

from servicedesk.exceptions import NotFound
from tickets.models import Attachment


def attachment_response(attachment: Attachment) -> FileResponse:
    """The file as a download, never rendered: the browser must not run what was uploaded."""
    try:
        handle = attachment.file.open("rb")
    except OSError:
        raise NotFound(_("File not found.")) from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
