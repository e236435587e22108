"""The engineer's screens: my jobs, ETA, en route, check-in (near or far), report, photo,
the store's sign-off on the engineer's phone, and resolve."""

from __future__ import annotations

import html
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests.tickets.dispatch_support import field_world, open_field_ticket
from tickets import dispatch
from tickets.constants import VISIT_CHECKLISTS
from tickets.models import Visit

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa75\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def fw(world):
    return field_world(world, auto_dispatch=False)


def accepted_job(fw, engineer="engineer_p", eta_hours=1):
    job = open_field_ticket(fw, when=timezone.now())
    offer = dispatch.offer_make(
        actor=fw.actor("dispatcher"), ticket_id=job.pk, partner_id=fw.partner_p.pk
    )
    dispatch.offer_accept(
        actor=fw.actor("partner_manager_p"),
        offer_id=offer.pk,
        engineer_id=fw.users[engineer].pk,
        eta=timezone.now() + timedelta(hours=eta_hours),
    )
    job.refresh_from_db()
    return job


def url(name, job):
    return reverse(name, args=[job.pk])


@pytest.mark.parametrize("user", ["dispatcher", "client_manager_a", "store_staff_a1"])
def test_field_screens_are_for_partners_only(client, fw, user):
    job = accepted_job(fw)
    client.force_login(fw.users[user])

    assert client.get(reverse("field_jobs")).status_code == 404
    assert client.get(url("field_job", job)).status_code == 404
    assert client.post(url("field_en_route", job)).status_code == 404
    job.refresh_from_db()
    assert job.status == "accepted"


def test_my_jobs_lists_own_jobs_with_store_and_local_time(client, fw):
    mine = accepted_job(fw)
    other = accepted_job(fw, engineer="engineer_p2")
    later = accepted_job(fw, eta_hours=60)
    client.force_login(fw.users["engineer_p"])

    response = client.get(reverse("field_jobs"))
    body = text(response)

    assert response.status_code == 200
    assert mine.reference in body and later.reference in body
    assert other.reference not in body
    assert body.index(mine.reference) < body.index("Next") < body.index(later.reference)
    assert mine.store.address in body


def test_another_engineers_job_is_404(client, fw):
    job = accepted_job(fw, engineer="engineer_p2")
    client.force_login(fw.users["engineer_p"])

    assert client.get(url("field_job", job)).status_code == 404
    assert client.post(url("field_en_route", job)).status_code == 404
    client.force_login(fw.users["engineer_q"])
    assert client.get(url("field_job", job)).status_code == 404


def test_job_page_shows_store_zone_and_coordinates(client, fw):
    job = accepted_job(fw)
    client.force_login(fw.users["engineer_p"])

    body = text(client.get(url("field_job", job)))

    assert job.store.time_zone in body
    assert str(job.store.latitude) in body and str(job.store.longitude) in body
    assert 'data-geo="latitude"' in body and "data-geo-checkin" in body


def test_eta_en_route_and_check_in_near_the_store(client, fw):
    job = accepted_job(fw)
    client.force_login(fw.users["engineer_p"])
    zone = ZoneInfo(job.store.time_zone)
    eta = (timezone.now() + timedelta(hours=3)).replace(second=0, microsecond=0)

    local_eta = eta.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url("field_eta", job), {"eta": local_eta})
    assert response.status_code == 302
    assert Visit.objects.get(ticket=job).eta == eta

    assert client.post(url("field_en_route", job)).status_code == 302
    job.refresh_from_db()
    assert job.status == "en_route"

    response = client.post(
        url("field_check_in", job), {"latitude": "55.757650", "longitude": "37.613700"}
    )
    assert response.status_code == 302
    job.refresh_from_db()
    visit = Visit.objects.get(ticket=job)
    assert job.status == "on_site" and not visit.check_in_flagged


def test_past_eta_is_refused_on_its_field(client, fw):
    job = accepted_job(fw)
    client.force_login(fw.users["engineer_p"])

    response = client.post(url("field_eta", job), {"eta": "2020-01-01T10:00"})

    assert response.status_code == 400
    assert "The ETA must be in the future." in text(response)


def test_check_in_without_coordinates_keeps_the_form(client, fw):
    job = accepted_job(fw)
    client.force_login(fw.users["engineer_p"])

    response = client.post(url("field_check_in", job), {"latitude": "", "longitude": "abc"})

    assert response.status_code == 400
    assert "field--invalid" in text(response)
    job.refresh_from_db()
    assert job.status == "accepted"


def test_check_in_far_away_is_flagged_for_staff_only(client, fw):
    job = accepted_job(fw)
    client.force_login(fw.users["engineer_p"])

    client.post(url("field_check_in", job), {"latitude": "59.93", "longitude": "30.31"})

    visit = Visit.objects.get(ticket=job)
    assert visit.check_in_flagged
    assert "far from the store" not in text(client.get(url("field_job", job)))
    client.force_login(fw.users["dispatcher"])
    assert "far from the store" in text(client.get(reverse("ticket_detail", args=[job.pk])))
    assert "far from the store" in text(client.get(reverse("dispatch_board")))
    client.force_login(fw.users["client_manager_a"])
    assert "far from the store" not in text(client.get(reverse("ticket_detail", args=[job.pk])))


def test_report_photo_sign_off_and_resolve(client, fw):
    job = accepted_job(fw)
    client.force_login(fw.users["engineer_p"])
    client.post(url("field_check_in", job), {"latitude": "55.7576", "longitude": "37.6136"})
    visit = Visit.objects.get(ticket=job)
    keys = [key for key, _q in VISIT_CHECKLISTS[visit.checklist_kind]]

    missing = client.post(url("field_report", job), {"text": "done"})
    assert missing.status_code == 400
    assert "Answer this item." in text(missing)

    data = {f"check_{key}": "yes" for key in keys}
    data.update({"text": "Replaced the printer head", "part_0_name": "Head", "part_0_qty": "1"})
    assert client.post(url("field_report", job), data).status_code == 302
    visit.refresh_from_db()
    assert visit.parts_used[0]["name"] == "Head" and visit.reported_at

    upload = SimpleUploadedFile("after.png", PNG, content_type="image/png")
    assert client.post(url("field_photo", job), {"file": upload}).status_code == 302
    assert visit.photos.count() == 1

    wrong = client.post(
        url("field_sign_off", job), {"username": "store_staff_b1", "password": "secret-pass-123"}
    )
    assert wrong.status_code == 403
    ok = client.post(
        url("field_sign_off", job), {"username": "store_staff_a1", "password": "secret-pass-123"}
    )
    assert ok.status_code == 302
    visit.refresh_from_db()
    assert visit.signed_off_by == fw.users["store_staff_a1"] and visit.signed_off_on_device

    assert client.post(url("field_resolve", job), {"note": ""}).status_code == 302
    job.refresh_from_db()
    assert job.status == "resolved"
    client.force_login(fw.users["dispatcher"])
    timeline = text(client.get(reverse("ticket_detail", args=[job.pk])))
    for title in ("Engineer checked in", "Work signed off by the store", "Engineer checked out"):
        assert title in timeline
