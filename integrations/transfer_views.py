"""HTML pages of imports and exports.

``/imports/``: choose what to import, the client and a file; "Check" runs a dry run and lists
every bad cell (line, column, reason) while keeping the choices made. A clean file is kept
server-side under its SHA-256 (per user, for an hour) so "Import" needs no second upload;
applying checks it again, inside the writing transaction.

``/exports/``: the ticket list's filters and links to the CSV/XLSX exports.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from clients.services import IMPORT_ROLES, ImportInvalid
from integrations.api.transfer_views import export_response
from integrations.forms import ExportForm, ImportForm
from integrations.imports import import_file
from servicedesk.actors import Actor
from servicedesk.exceptions import Conflict, PermissionDenied
from servicedesk.forms import add_service_error
from servicedesk.views import actor_required

PENDING_SECONDS = 3600


def _pending_dir() -> Path:
    # A private temporary directory of this machine: the file is re-checked on apply, so
    # losing it (another web node, a restart) only means uploading it again.
    path = Path(tempfile.gettempdir()) / "servicedesk-imports"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _pending_path(actor: Actor, sha256: str) -> Path:
    return _pending_dir() / f"{actor.user_id}-{sha256}"


def _keep(actor: Actor, sha256: str, data: bytes) -> None:
    cutoff = time.time() - PENDING_SECONDS
    for old in _pending_dir().iterdir():
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    _pending_path(actor, sha256).write_bytes(data)


def _kept(actor: Actor, sha256: str) -> bytes | None:
    path = _pending_path(actor, sha256)
    if not path.exists() or path.stat().st_mtime < time.time() - PENDING_SECONDS:
        return None
    return path.read_bytes()


@actor_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Check a file (dry run) or import a checked one, for the roles that may import."""
    if actor.role not in IMPORT_ROLES:
        raise PermissionDenied(_("Only provider staff and client managers import data."))
    initial = {key: request.GET[key] for key in ("kind", "client") if key in request.GET}
    if request.method == "GET":
        form = ImportForm(initial=initial, actor=actor)
        return render(request, "integrations/transfer/imports.html", {"form": form})
    form = ImportForm(request.POST, request.FILES, actor=actor)
    result = None
    if form.is_valid():
        data = form.cleaned_data
        apply = request.POST.get("action") == "apply" and bool(data["sha256"])
        content = _kept(actor, data["sha256"]) if apply else data["file"].read()
        if content is None:
            form.add_error("file", _("The checked file has expired; upload it again."))
        else:
            try:
                result = import_file(
                    actor=actor,
                    kind=data["kind"],
                    client_id=data["client"].pk,
                    data=content,
                    dry_run=not apply,
                )
            except ImportInvalid as exc:
                result = exc.result
            except Conflict as exc:
                add_service_error(form, exc)
            else:
                if apply:
                    _pending_path(actor, data["sha256"]).unlink(missing_ok=True)
                    report = result.report
                    messages.success(
                        request,
                        _("Imported: %(created)s created, %(updated)s updated, %(same)s unchanged.")
                        % {
                            "created": report.created,
                            "updated": report.updated,
                            "same": report.unchanged,
                        },
                    )
                    return redirect(
                        f"{request.path}?kind={data['kind']}&client={data['client'].pk}"
                    )
                if result.report.valid:
                    _keep(actor, result.sha256, content)
    failed = bool(form.errors) or (result is not None and not result.report.valid)
    return render(
        request,
        "integrations/transfer/imports.html",
        {"form": form, "result": result},
        status=400 if failed else 200,
    )


@actor_required
@require_GET
def export_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The ticket list's filters and the export links; what is exported is what the list
    shows the actor."""
    form = ExportForm(request.GET or None, actor=actor)
    return render(request, "integrations/transfer/exports.html", {"form": form})


@actor_required
@require_GET
def export_download(
    request: HttpRequest, actor: Actor, name: str, file_format: str
) -> HttpResponse:
    """The export as a file, the same as the API's (``export_response``)."""
    return export_response(actor=actor, name=name, file_format=file_format, filters=request.GET)
