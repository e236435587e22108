"""Serving an attachment: the same safe response for the API and the HTML pages."""

from __future__ import annotations

from django.http import FileResponse
from django.utils.translation import gettext as _

from servicedesk.exceptions import NotFound
from tickets.models import Attachment
from tickets.uploads import safe_file_name


def attachment_response(attachment: Attachment) -> FileResponse:
    """The file as a download, never rendered: the browser must not run what was uploaded.

    ``attachment`` forces a download, ``nosniff`` stops the browser guessing a type other
    than the one checked at upload, and the sandbox CSP keeps a file opened anyway from
    running scripts or reaching our origin. The name is cleaned again (rows stored before
    names were cleaned at upload) and its extension matches the content.
    """
    try:
        handle = attachment.file.open("rb")
    except OSError:
        raise NotFound(_("File not found.")) from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=safe_file_name(attachment.original_name, attachment.content_type),
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
