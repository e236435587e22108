"""Stored XSS in a real browser: the poisoned ticket's pages open no dialog and run nothing.

The data and the pages are those of ``tests/security/test_stored_xss.py``.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.e2e.test_smoke import sign_in
from tests.security.test_stored_xss import _pages, poison

pytestmark = pytest.mark.e2e


@pytest.mark.django_db(transaction=True)
def test_no_script_runs_in_a_real_browser(world, live_server, new_page):
    poisoned = poison(world)
    page = new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, live_server.url, "dispatcher")
    for url in _pages(world, poisoned)["dispatcher"]:
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("networkidle")
        if url != reverse("dispatch_board"):  # the board shows unassigned work only
            assert page.get_by_text("Subject <img", exact=False).count() >= 1, url
    assert dialogs == []
