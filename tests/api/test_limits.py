"""Limits: request rates per token (429 + Retry-After), body sizes (413) and what a file
may be (content, not name; no markup; no zip bombs; safe names)."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.test import APIClient

from tickets.models import Attachment, Ticket
from tickets.uploads import safe_file_name

TICKETS = "/api/v1/tickets/"
TOKEN_URL = "/api/v1/auth/token/"
DB_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "servicedesk_cache",
    }
}


def png_bytes() -> bytes:
    """A real 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def zip_bytes(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def attach(client: APIClient, world, name: str, content: bytes, content_type: str = "image/png"):
    return client.post(
        f"{TICKETS}{world.tickets['a1'].pk}/attachments/",
        {"file": SimpleUploadedFile(name, content, content_type=content_type)},
        format="multipart",
    )


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def rates(settings):
    """Low limits on the shared database cache (the one the demo uses without Redis)."""
    settings.CACHES = DB_CACHE
    settings.API_THROTTLE_RATES = {"principal": "3/min", "token_obtain": "2/min"}


# -- rates ------------------------------------------------------------------------------------


def test_a_token_over_its_rate_gets_429_with_retry_after(world, api_for, rates):
    # given a token that used its three requests of the minute
    client = api_for(world.users["dispatcher"])
    answers = [client.get(TICKETS).status_code for _ in range(3)]
    before = Ticket.objects.count()

    # when it asks again, to read or to write
    refused = client.get(TICKETS)
    refused_write = client.post(TICKETS, {"store": world.store_a1.pk, "subject": "Till"})

    # then both are refused in the uniform body, saying when to come back
    assert answers == [200, 200, 200]
    for response in (refused, refused_write):
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "throttled"
        assert response.json()["error"]["message"]
        assert 1 <= int(response["Retry-After"]) <= 60
    assert Ticket.objects.count() == before


def test_limits_are_per_token_and_kept_in_the_shared_cache(world, api_for, rates):
    # given one token at its limit
    busy = api_for(world.users["dispatcher"])
    for _ in range(3):
        busy.get(TICKETS)
    assert busy.get(TICKETS).status_code == 429

    # then other tokens, of another user or of the same one, are not affected
    assert api_for(world.users["client_manager_a"]).get(TICKETS).status_code == 200
    assert api_for(world.users["dispatcher"]).get(TICKETS).status_code == 200
    # and the counts live in the database table every worker process shares
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM servicedesk_cache WHERE cache_key LIKE %s", ["%"])
        assert cursor.fetchone()[0] >= 3


def test_session_callers_are_limited_per_user(world, rates):
    client = APIClient()
    client.force_login(world.users["dispatcher"])

    answers = [client.get(TICKETS).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]


def test_password_guessing_is_limited_per_ip_and_username(world, rates):
    # given a correct password, and two wrong guesses first
    user = world.users["dispatcher"]
    user.set_password("right-pass-123")
    user.save()
    client = APIClient()
    guesses = [
        client.post(TOKEN_URL, {"username": "dispatcher", "password": f"guess{n}"}).status_code
        for n in range(2)
    ]

    # when the right password comes third within the minute
    blocked = client.post(TOKEN_URL, {"username": "dispatcher", "password": "right-pass-123"})

    # then it is refused too, while another username from the same address is not
    assert guesses == [400, 400]
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) >= 1
    other = client.post(TOKEN_URL, {"username": "client_manager_a", "password": "x"})
    assert other.status_code == 400


# -- request sizes -----------------------------------------------------------------------------


def test_a_json_body_over_the_limit_is_413_in_the_uniform_body(world, api_for, settings):
    # given a limit of 1 kB and a 2 kB body
    settings.MAX_REQUEST_BYTES = 1024
    before = Ticket.objects.count()
    body = {"store": world.store_a1.pk, "subject": "Till", "description": "x" * 2048}

    # when
    response = api_for(world.users["dispatcher"]).post(TICKETS, body)

    # then
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "request_too_large"
    assert Ticket.objects.count() == before


def test_a_body_over_the_limit_is_413_even_with_an_idempotency_key(world, api_for, settings):
    settings.MAX_REQUEST_BYTES = 1024
    body = json.dumps({"store": world.store_a1.pk, "subject": "x" * 2048})

    response = api_for(world.users["dispatcher"]).post(
        TICKETS, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_an_upload_request_over_the_limit_is_413(world, api_for, settings):
    settings.MAX_MULTIPART_REQUEST_BYTES = 4096
    before = Attachment.objects.count()

    response = attach(
        api_for(world.users["dispatcher"]), world, "big.png", png_bytes() + b"\0" * 8192
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert Attachment.objects.count() == before


def test_a_file_over_the_upload_limit_is_refused_naming_the_file(world, api_for, settings):
    settings.MAX_UPLOAD_BYTES = 1024

    response = attach(
        api_for(world.users["dispatcher"]), world, "big.png", png_bytes() + b"\0" * 2048
    )

    assert response.status_code == 400
    assert "limit" in response.json()["error"]["fields"]["file"][0]


def test_form_fields_over_djangos_memory_limit_are_413_not_an_html_page(world, api_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    before = Attachment.objects.count()

    response = api_for(world.users["dispatcher"]).post(
        f"{TICKETS}{world.tickets['a1'].pk}/attachments/",
        {"file": SimpleUploadedFile("a.png", png_bytes()), "note": "x" * 4096},
        format="multipart",
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert Attachment.objects.count() == before


# -- what a file may be ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.png", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
        ("photo.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("logo.svg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>'),
        ("page.html", b"  \n<html><head></head></html>"),
        ("notes.txt", b"\x00\x01\x02binary\x00"),
    ],
    ids=["html-as-png", "svg-as-png", "svg", "html", "binary-as-text"],
)
def test_files_are_judged_by_content_and_markup_is_refused(world, api_for, name, content):
    before = Attachment.objects.count()

    response = attach(api_for(world.users["dispatcher"]), world, name, content)

    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]
    assert Attachment.objects.count() == before


def test_a_zip_bomb_is_refused(world, api_for):
    # given a 20 kB .docx that declares 20 MB of zeros inside
    bomb = zip_bytes({"word/document.xml": b"\0" * (20 * 1024 * 1024)})
    assert len(bomb) < 100 * 1024
    before = Attachment.objects.count()

    response = attach(
        api_for(world.users["dispatcher"]),
        world,
        "report.docx",
        bomb,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )

    assert response.status_code == 400
    assert "archive" in response.json()["error"]["fields"]["file"][0]
    assert Attachment.objects.count() == before


def test_an_archive_unpacking_beyond_the_limit_is_refused(world, api_for, settings):
    # given stored (uncompressed) entries, so only the total is at fault
    settings.MAX_UNPACKED_BYTES = 64 * 1024
    archive = zip_bytes({f"sheet{n}.xml": b"a" * 40_000 for n in range(2)}, zipfile.ZIP_STORED)

    response = attach(api_for(world.users["dispatcher"]), world, "book.xlsx", archive)

    assert response.status_code == 400


def test_a_damaged_archive_is_refused(world, api_for):
    response = attach(
        api_for(world.users["dispatcher"]), world, "a.zip", b"PK\x03\x04" + b"\x00" * 100
    )

    assert response.status_code == 400
    assert "damaged" in response.json()["error"]["fields"]["file"][0]


def test_an_ordinary_office_document_is_accepted(world, api_for):
    document = zip_bytes(
        {"[Content_Types].xml": b"<Types/>" * 50, "word/document.xml": b"<w:p>Hi</w:p>" * 500}
    )

    response = attach(api_for(world.users["dispatcher"]), world, "act.docx", document)

    assert response.status_code == 201, response.content
    assert response.json()["name"] == "act.docx"
    assert response.json()["content_type"] == "application/zip"


@pytest.mark.parametrize(
    ("given", "content_type", "stored"),
    [
        ("../../etc/passwd", "text/plain", "passwd.txt"),
        ("..\\..\\windows\\win.ini", "text/plain", "win.ini"),
        ("evil\x00.png", "image/png", "evil.png"),
        ("line\r\nbreak.png", "image/png", "linebreak.png"),
        ("..", "image/png", "file.png"),
        (".htaccess", "text/plain", "htaccess.txt"),
        ("page.html", "text/plain", "page.html.txt"),
        ("photo.PNG", "image/png", "photo.PNG"),
        ("фото кассы.jpeg", "image/jpeg", "фото кассы.jpeg"),
        ("", "application/pdf", "file.pdf"),
    ],
)
def test_file_names_are_neutralised(given, content_type, stored):
    assert safe_file_name(given, content_type) == stored


def test_a_very_long_name_is_cut_keeping_its_extension():
    name = safe_file_name("a" * 1000 + ".png", "image/png")

    assert len(name) == 255
    assert name.endswith("aaa.png")


def test_upload_names_with_paths_are_stored_without_them(world, api_for):
    response = attach(
        api_for(world.users["dispatcher"]), world, "../../../etc/cron.d/evil.html", png_bytes()
    )

    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get(pk=response.json()["id"])
    assert attachment.original_name == "evil.html.png"


def test_downloads_are_attachments_that_cannot_run(world, api_for):
    # given a text file whose name says HTML
    client = api_for(world.users["dispatcher"])
    created = attach(client, world, "report.html", b"plain words " * 300, "text/html")
    assert created.status_code == 201, created.content

    # when downloaded
    download = client.get(created.json()["download_url"])

    # then the browser saves it as text and would not run or sniff it
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/plain")
    assert download["Content-Disposition"] == 'attachment; filename="report.html.txt"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]
    assert "default-src 'none'" in download["Content-Security-Policy"]
