"""The /imports/ page: check a file, see every error with its line, keep the choices made,
and import a clean file without uploading it again."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from clients.models import Store

HEADER = ["Код", "Название", "Адрес", "Регион"]


def upload(rows: list[list[str]], name: str = "stores.csv") -> SimpleUploadedFile:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode("utf-8-sig"), "text/csv")


def selected(html: str, name: str) -> str | None:
    """The value of the selected option of the ``name`` select."""
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert select, name
    option = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(0))
    return option.group(1) if option else None


def test_a_failed_check_lists_errors_and_keeps_kind_and_client(client, world):
    client.force_login(world.users["dispatcher"])
    bad = upload([HEADER, ["W1", "Shop", "Street 1", "RU-MOW"], ["W2", "Shop", "Street", "XX"]])

    response = client.post(
        "/imports/",
        {"kind": "stores", "client": world.client_b.pk, "file": bad, "action": "check"},
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert selected(html, "kind") == "stores"
    assert selected(html, "client") == str(world.client_b.pk)
    row = re.search(r"<tr>\s*<td[^>]*>3</td>\s*<td[^>]*>region</td>", html)
    assert row, "line 3, column region in the error table"
    assert re.search(r"<button[^>]*disabled[^>]*>\s*Import", html)
    assert 'value="apply"' not in html
    assert not Store.objects.filter(code__in=["W1", "W2"]).exists()


def test_a_clean_check_offers_import_which_writes_without_a_second_upload(client, world):
    client.force_login(world.users["dispatcher"])
    good = upload([HEADER, ["W1", "Shop", "Street 1", "RU-MOW"]])

    checked = client.post(
        "/imports/",
        {"kind": "stores", "client": world.client_a.pk, "file": good, "action": "check"},
    )
    sha256 = re.search(r'name="sha256" value="([0-9a-f]{64})"', checked.content.decode())
    assert checked.status_code == 200 and sha256
    assert not Store.objects.filter(code="W1").exists()

    applied = client.post(
        "/imports/",
        {
            "kind": "stores",
            "client": world.client_a.pk,
            "sha256": sha256.group(1),
            "action": "apply",
        },
    )

    assert applied.status_code == 302
    assert applied["Location"] == f"/imports/?kind=stores&client={world.client_a.pk}"
    assert Store.objects.filter(client=world.client_a, code="W1").exists()


def test_apply_of_a_file_someone_else_checked_is_refused(client, world):
    client.force_login(world.users["dispatcher"])
    good = upload([HEADER, ["W9", "Shop", "Street 1", "RU-MOW"]])
    checked = client.post(
        "/imports/",
        {"kind": "stores", "client": world.client_a.pk, "file": good, "action": "check"},
    )
    sha256 = re.search(r'name="sha256" value="([0-9a-f]{64})"', checked.content.decode())
    client.force_login(world.users["provider_admin"])

    response = client.post(
        "/imports/",
        {
            "kind": "stores",
            "client": world.client_a.pk,
            "sha256": sha256.group(1),
            "action": "apply",
        },
    )

    assert response.status_code == 400
    assert not Store.objects.filter(code="W9").exists()


def test_a_client_manager_imports_into_its_own_client_whatever_is_posted(client, world):
    client.force_login(world.users["client_manager_a"])
    page = client.get("/imports/")
    good = upload([HEADER, ["W3", "Shop", "Street 1", "RU-MOW"]])

    checked = client.post(
        "/imports/",
        {"kind": "stores", "client": world.client_b.pk, "file": good, "action": "check"},
    )

    assert page.status_code == 200
    assert world.client_b.name not in page.content.decode()
    assert checked.status_code == 200
    assert selected(checked.content.decode(), "client") == str(world.client_a.pk)
    assert f'name="client" value="{world.client_a.pk}"' in checked.content.decode()


@pytest.mark.parametrize("user", ["store_staff_a1", "partner_manager_p", "engineer_p"])
def test_other_roles_are_refused(client, world, user):
    client.force_login(world.users[user])

    response = client.get("/imports/")

    assert response.status_code == 403


def test_page_has_no_inline_script_or_style(client, world):
    client.force_login(world.users["dispatcher"])

    html = client.get("/imports/?kind=equipment").content.decode()

    assert selected(html, "kind") == "equipment"
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "<style" not in html and 'style="' not in html
