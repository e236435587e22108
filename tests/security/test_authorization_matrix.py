"""The authorization matrix: every API endpoint and HTML view × every role × an object of
the caller's own tenant and one of another tenant → the status the caller must get.

Generated from the URL configuration: a URL without an entry in
``tests/security/authz_matrix.py`` (or an entry whose URL is gone) fails
``test_every_url_has_an_entry``, so a new endpoint cannot ship without deciding who may use
it. "Own" is the world's ticket A1 (client A, store A1, partner P, engineer P) and the
objects around it; "other" is client B's ticket B1 (partner Q) and its surroundings, which
no role of client A or partner P may see: out of scope answers 404, never 403 (no existence
leak); a role that sees the object but may not act on it gets 403.

All cases share one world built once per module; each case runs in a savepoint that is
rolled back, so a write one role is allowed does not change what the next role sees.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.conftest import build_world
from tests.security.authz import call_checked, extend_world, url_names
from tests.security.authz_matrix import MATRIX

# The test database is only created for a session whose tests ask for it.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def matrix_world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield extend_world(build_world())
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def test_every_url_has_an_entry():
    names = url_names()
    missing = sorted(names - MATRIX.keys())
    stale = sorted(MATRIX.keys() - names)
    empty = sorted(name for name, probes in MATRIX.items() if not probes)
    assert not missing, f"URLs without an authorization entry: {missing}"
    assert not stale, f"entries for URLs that no longer exist: {stale}"
    assert not empty, f"entries that probe nothing: {empty}"


# One test per URL (every probe × role × own/other object inside): a case per test would
# spend more time in pytest's set-up than in the request.
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_authorization(matrix_world, name):
    wrong = []
    for index, probe in enumerate(MATRIX[name]):
        for role, which, status in probe.cases():
            with transaction.atomic():
                got, wrote = call_checked(matrix_world, name, probe, role, which)
                transaction.set_rollback(True)
            case = f"{probe.method}#{index} as {role} on {which}"
            if got != status:
                wrong.append(f"{case}: {got}, want {status}")
            if wrote:
                wrong.append(f"{case}: refused with {got}, but rows changed")
    assert not wrong, f"{name}:\n" + "\n".join(wrong)
