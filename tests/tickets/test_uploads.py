"""Attachments: accepted by what the bytes are, never by the name; stored under SHA-256."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from servicedesk.exceptions import NotFound, PermissionDenied, ValidationFailed
from tickets import selectors, services
from tickets.models import Attachment, Ticket, TicketEvent
from tickets.uploads import check_upload, sniff_content_type

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256))
PRIVET = "Привет, касса №3 не работает".encode()


@pytest.mark.parametrize(
    ("head", "content_type"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64), "image/jpeg"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
        (b"GIF87a\x01\x00\x01\x00", "image/gif"),
        (b"GIF89a\x01\x00\x01\x00\x80\x00\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00", "image/webp"),
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(32), "application/zip"),
        (b"Till 3 prints nothing since 09:00.\r\nError 231.", "text/plain"),
        (PRIVET, "text/plain"),
        # A sample cut in the middle of a two-byte Cyrillic letter is still text.
        (PRIVET[:3], "text/plain"),
        (("ж" * 1000).encode()[:1999], "text/plain"),
    ],
    ids=[
        "png",
        "jpeg",
        "pdf",
        "gif87",
        "gif89",
        "webp",
        "zip",
        "ascii",
        "cyrillic",
        "cyrillic-cut-short",
        "cyrillic-cut-long",
    ],
)
def test_sniff_accepts(head, content_type):
    assert sniff_content_type(head) == content_type


@pytest.mark.parametrize(
    "head",
    [
        b"<!DOCTYPE html><html><body>hi</body></html>",
        b"<html><script>alert(1)</script></html>",
        b"  \n<HTML>upper case</HTML>",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b'<?xml version="1.0"?><root/>',
        b"Hello, see attached <script>alert(document.cookie)</script>",
        b"report\n<iframe src=//evil></iframe>",
        b"text with a NUL \x00 in it",
        b"\x7fELF\x02\x01\x01\x00\x00\x00\x00",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00",
        b"caf\xe9 au lait, latin-1 not UTF-8, well before the end",
    ],
    ids=[
        "html-doctype",
        "html",
        "html-upper-indented",
        "svg",
        "xml",
        "script-in-text",
        "iframe-in-text",
        "nul-in-text",
        "elf",
        "exe",
        "not-utf8",
    ],
)
def test_sniff_refuses(head):
    assert sniff_content_type(head) is None


def test_name_does_not_decide():
    # HTML named like a picture is still HTML, and a picture named .txt is still a picture
    html = SimpleUploadedFile("photo.png", b"<html><script>x</script></html>", "image/png")
    with pytest.raises(ValidationFailed):
        check_upload(html)
    assert check_upload(SimpleUploadedFile("notes.txt", PNG, "text/plain")).content_type == (
        "image/png"
    )


def test_check_upload_refuses_an_empty_file():
    with pytest.raises(ValidationFailed) as exc:
        check_upload(SimpleUploadedFile("empty.txt", b""))
    assert "file" in exc.value.fields


def test_check_upload_refuses_a_file_over_the_limit(settings):
    settings.MAX_UPLOAD_BYTES = 16
    with pytest.raises(ValidationFailed) as exc:
        check_upload(SimpleUploadedFile("big.txt", b"x" * 17))
    assert "file" in exc.value.fields
    # Exactly at the limit is fine
    assert check_upload(SimpleUploadedFile("ok.txt", b"x" * 16)).size == 16


def test_check_upload_measures_and_hashes_the_whole_file():
    # Given a text file far larger than the sniffed head and than one upload chunk
    content = PRIVET * 20_000
    uploaded = SimpleUploadedFile("log.txt", content)
    # When it is checked
    checked = check_upload(uploaded)
    # Then the digest and size are those of every byte, and the file is rewound for saving
    assert checked.sha256 == hashlib.sha256(content).hexdigest()
    assert checked.size == len(content)
    assert checked.content_type == "text/plain"
    assert uploaded.read() == content


# --- ticket_attach ---------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def _files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_attach_stores_the_file_under_its_sha256_with_an_event(world, media):
    # Given ticket A1 and a PNG with an unsafe name
    a1 = world.tickets["a1"]
    digest = hashlib.sha256(PNG).hexdigest()
    # When the client manager attaches it
    attachment = services.ticket_attach(
        actor=world.actor("client_manager_a"),
        ticket_id=a1.pk,
        uploaded_file=SimpleUploadedFile("..\\..\\etc/касса.png", PNG, "text/html"),
    )
    # Then the row says what the file is, by content
    attachment.refresh_from_db()
    assert attachment.sha256 == digest
    assert attachment.content_type == "image/png"
    assert attachment.size == len(PNG)
    assert attachment.original_name == "касса.png"
    assert attachment.uploaded_by_id == world.users["client_manager_a"].pk
    assert attachment.is_internal is False
    # And the bytes are on disk under the client, the ticket and the digest: nothing else
    expected_name = f"attachments/{world.client_a.pk}/{a1.pk}/{digest}"
    assert attachment.file.name == expected_name
    assert _files_under(media) == [media / expected_name]
    assert (media / expected_name).read_bytes() == PNG
    # And the timeline has an `attached` event; the ticket's own fields, and so its version,
    # are untouched
    last = TicketEvent.objects.filter(ticket=a1).latest("id")
    assert (last.kind, last.data, last.is_internal) == (
        "attached",
        {"attachment_id": attachment.pk, "name": "касса.png"},
        False,
    )
    assert Ticket.objects.get(pk=a1.pk).version == a1.version


def test_internal_attachment_by_provider_is_internal(world, media):
    a1 = world.tickets["a1"]
    attachment = services.ticket_attach(
        actor=world.actor("dispatcher"),
        ticket_id=a1.pk,
        uploaded_file=SimpleUploadedFile("note.txt", b"internal"),
        is_internal=True,
    )
    last = TicketEvent.objects.filter(ticket=a1).latest("id")
    assert (attachment.is_internal, last.kind, last.is_internal) == (True, "attached", True)


def test_attach_to_a_comment_of_the_ticket(world, media):
    a1 = world.tickets["a1"]
    comment = services.ticket_comment(actor=world.actor("engineer_p"), ticket_id=a1.pk, body="фото")
    attachment = services.ticket_attach(
        actor=world.actor("engineer_p"),
        ticket_id=a1.pk,
        uploaded_file=SimpleUploadedFile("p.png", PNG),
        comment_id=comment.pk,
    )
    assert attachment.comment_id == comment.pk


def _nothing_written(world, media, before_events: int, versions: dict) -> None:
    assert Attachment.objects.count() == 0
    assert _files_under(media) == []
    assert TicketEvent.objects.count() == before_events
    assert dict(Ticket.objects.values_list("pk", "version")) == versions


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"<html><body onload=alert(1)></body></html>", "report.txt"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "logo.svg"),
        (b"\x00\x01\x02\x03binary", "data.bin"),
        (b"", "empty.png"),
    ],
    ids=["html", "svg", "binary", "empty"],
)
def test_refused_file_writes_nothing(world, media, content, name):
    before_events = TicketEvent.objects.count()
    versions = dict(Ticket.objects.values_list("pk", "version"))
    with pytest.raises(ValidationFailed) as exc:
        services.ticket_attach(
            actor=world.actor("dispatcher"),
            ticket_id=world.tickets["a1"].pk,
            uploaded_file=SimpleUploadedFile(name, content),
        )
    assert "file" in exc.value.fields
    _nothing_written(world, media, before_events, versions)


def test_file_over_the_limit_writes_nothing(world, media, settings):
    settings.MAX_UPLOAD_BYTES = 1024
    before_events = TicketEvent.objects.count()
    versions = dict(Ticket.objects.values_list("pk", "version"))
    with pytest.raises(ValidationFailed):
        services.ticket_attach(
            actor=world.actor("dispatcher"),
            ticket_id=world.tickets["a1"].pk,
            uploaded_file=SimpleUploadedFile("big.png", PNG + bytes(1024)),
        )
    _nothing_written(world, media, before_events, versions)


@pytest.mark.parametrize("role", ["client_manager_a", "partner_manager_p", "engineer_p"])
def test_internal_attachment_only_by_provider(world, media, role):
    before_events = TicketEvent.objects.count()
    versions = dict(Ticket.objects.values_list("pk", "version"))
    with pytest.raises(PermissionDenied):
        services.ticket_attach(
            actor=world.actor(role),
            ticket_id=world.tickets["a1"].pk,
            uploaded_file=SimpleUploadedFile("x.png", PNG),
            is_internal=True,
        )
    _nothing_written(world, media, before_events, versions)


@pytest.mark.parametrize(
    ("role", "ticket_key"),
    [("client_manager_b", "a1"), ("store_staff_a1", "a2"), ("engineer_p2", "a1")],
)
def test_attach_to_a_foreign_ticket_writes_nothing(world, media, role, ticket_key):
    before_events = TicketEvent.objects.count()
    versions = dict(Ticket.objects.values_list("pk", "version"))
    with pytest.raises(NotFound):
        services.ticket_attach(
            actor=world.actor(role),
            ticket_id=world.tickets[ticket_key].pk,
            uploaded_file=SimpleUploadedFile("x.png", PNG),
        )
    _nothing_written(world, media, before_events, versions)


def test_attach_to_a_comment_of_another_ticket_writes_nothing(world, media):
    # Given a comment on A1, and an upload to A2 that names it
    comment_on_a1 = world.tickets["a1"].comments.filter(is_internal=False).get()
    before_events = TicketEvent.objects.count()
    versions = dict(Ticket.objects.values_list("pk", "version"))
    with pytest.raises(NotFound):
        services.ticket_attach(
            actor=world.actor("dispatcher"),
            ticket_id=world.tickets["a2"].pk,
            uploaded_file=SimpleUploadedFile("x.png", PNG),
            comment_id=comment_on_a1.pk,
        )
    _nothing_written(world, media, before_events, versions)


def test_client_cannot_hang_a_file_on_an_internal_note(world, media):
    internal = world.tickets["a1"].comments.filter(is_internal=True).get()
    before_events = TicketEvent.objects.count()
    versions = dict(Ticket.objects.values_list("pk", "version"))
    with pytest.raises(NotFound):
        services.ticket_attach(
            actor=world.actor("client_manager_a"),
            ticket_id=world.tickets["a1"].pk,
            uploaded_file=SimpleUploadedFile("x.png", PNG),
            comment_id=internal.pk,
        )
    _nothing_written(world, media, before_events, versions)


def test_a_file_on_an_internal_note_stays_internal(world, media):
    # Given the dispatcher's internal note on A1
    a1 = world.tickets["a1"]
    internal = a1.comments.filter(is_internal=True).get()
    # When the dispatcher hangs a file on it without repeating the internal flag
    attachment = services.ticket_attach(
        actor=world.actor("dispatcher"),
        ticket_id=a1.pk,
        uploaded_file=SimpleUploadedFile("audit.txt", b"staff only"),
        comment_id=internal.pk,
    )
    # Then the client and the partner do not see the file of a note they cannot see
    for role in ("client_manager_a", "store_staff_a1", "partner_manager_p", "engineer_p"):
        visible = selectors.ticket_attachments(actor=world.actor(role), ticket=a1)
        assert attachment not in visible, role
    assert attachment in selectors.ticket_attachments(actor=world.actor("dispatcher"), ticket=a1)
