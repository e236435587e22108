"""SLA clocks on the HTML pages: the ticket's SLA panel, the list's due column, sort and filters.

Every expected instant is worked out by hand in the comment above it. Moscow is UTC+3 all
year, Kamchatka UTC+12. The office calendar is Mon–Fri 09:00–18:00 in the store's zone.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calendars.services import calendar_presets_ensure
from partners.models import PartnerContract
from sla import services as sla
from sla.models import SlaPolicy
from tests.factories import ClientContractFactory
from tickets import presenters, services

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def text(response) -> str:
    return html.unescape(response.content.decode())


def words(response) -> str:
    """What a reader sees: tags dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text(response)))


def attrs(response) -> str:
    """The markup with whitespace collapsed, to look for attributes in order."""
    return re.sub(r"\s+", " ", text(response))


@pytest.fixture
def sla_world(world):
    """Client A: P1 on store hours (08–22 local), P2 round the clock, P3 on office hours;
    partner P's OLA: accept in 30 min, arrive in 3 h, resolve in 6 h."""
    presets = calendar_presets_ensure()
    contract = ClientContractFactory(client=world.client_a, starts_on="2025-01-01")
    for priority, calendar, response, arrival, resolution in [
        ("p1", "store-hours", 30 * 60, 4 * 3600, 8 * 3600),
        ("p2", "24x7", 60 * 60, 4 * 3600, 12 * 3600),
        ("p3", "office", 2 * 3600, None, 16 * 3600),
    ]:
        SlaPolicy.objects.create(
            contract=contract,
            priority=priority,
            response_seconds=response,
            arrival_seconds=arrival,
            resolution_seconds=resolution,
            calendar=presets[calendar],
        )
    PartnerContract.objects.filter(partner=world.partner_p).update(
        arrive_within_seconds=3 * 3600, resolve_within_seconds=6 * 3600
    )
    return world


def open_ticket(world, at: datetime, *, store=None, priority="p1", needs_visit=False, **kw):
    with time_machine.travel(at, tick=False):
        return services.ticket_create(
            actor=world.actor("dispatcher"),
            store_id=(store or world.store_a1).pk,
            subject=kw.pop("subject", "Касса не работает"),
            priority=priority,
            needs_visit=needs_visit,
            **kw,
        )


def assign_p(world, ticket, at: datetime):
    with time_machine.travel(at, tick=False):
        services.ticket_assign(
            actor=world.actor("dispatcher"), ticket_id=ticket.pk, partner_id=world.partner_p.pk
        )


def get_at(client, user, url: str, at: datetime, **extra):
    """The page as ``user`` sees it at ``at`` (signed in at that moment, too)."""
    with time_machine.travel(at, tick=False):
        client.force_login(user)
        return client.get(url, **extra)


def groups(response) -> dict[str, int]:
    """The SLA panel's groups: heading → number of clocks under it."""
    found = re.findall(
        r'<h3 class="clocks__group">([^<]+)</h3>\s*<ul class="clocks">(.*?)</ul>',
        text(response),
        re.S,
    )
    return {title: body.count('class="clock clock--') for title, body in found}


def panel_rows(world, ticket, user: str, now: datetime, viewer_zone: str = "Europe/Moscow"):
    ticket.refresh_from_db()
    panel = presenters.clock_panel(world.actor(user), ticket, now=now, viewer_zone=viewer_zone)
    return {(row.clock.agreement, row.clock.metric): row for row in panel.rows}


def references(response) -> list[str]:
    return re.findall(r'class="cell-ref"[^>]*><a [^>]*>([A-Z]+-\d+)</a>', response.content.decode())


# --- the ticket page's SLA panel ---------------------------------------------------------------


def test_kamchatka_due_shows_in_the_store_time_and_the_viewers_own(client, sla_world):
    # Mon 2026-12-07 18:00Z is Tue 06:00 in Kamchatka: the store opens at 08:00 local.
    # Response 30 min → Tue 08:30 local (UTC+12) = Mon 20:30Z = Mon 23:30 in Moscow.
    # Resolution 8 h → Tue 16:00 local = 04:00Z = 07:00 in Moscow.
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 18), store=sla_world.store_a2)

    response = get_at(
        client,
        sla_world.users["dispatcher"],
        reverse("ticket_detail", args=[ticket.pk]),
        utc(2026, 12, 7, 19),
    )

    page = text(response)
    assert 'id="ticket-clocks"' in page
    assert "08.12.2026 08:30 (UTC+12)" in page
    assert "08.12.2026 16:00 (UTC+12)" in page
    # The dispatcher's own zone is Moscow: each due is repeated in it.
    assert "your time 07.12.2026 23:30 (UTC+3)" in page
    assert "your time 08.12.2026 07:00 (UTC+3)" in page
    # Before opening nothing counts: the whole targets are left, and the page says why.
    assert 'data-seconds="1800" data-counting="false"' in re.sub(r"\s+", " ", page)
    assert "outside working hours" in page


def test_same_zone_viewer_gets_no_second_time(client, sla_world):
    # A Moscow store seen from Moscow: one time per due, no "your time" line.
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7))

    response = get_at(
        client,
        sla_world.users["dispatcher"],
        reverse("ticket_detail", args=[ticket.pk]),
        utc(2026, 12, 7, 8),
    )

    assert "07.12.2026 10:30 (UTC+3)" in text(response)
    assert "your time" not in text(response).split('id="ticket-clocks"')[1].split("</section>")[0]


def test_client_sees_the_sla_clocks_and_no_ola(client, sla_world):
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7), needs_visit=True)
    assign_p(sla_world, ticket, utc(2026, 12, 7, 7, 5))

    response = get_at(
        client,
        sla_world.users["client_manager_a"],
        reverse("ticket_clocks", args=[ticket.pk]),
        utc(2026, 12, 7, 8),
    )

    page = text(response)
    assert groups(response) == {"Client SLA": 3}  # response, arrival, resolution
    assert "Partner OLA" not in page and "Offer acceptance" not in page
    assert sla_world.partner_p.name not in page


def test_partner_sees_its_own_ola_and_the_provider_sees_whose_it_is(client, sla_world):
    # P holds the job from 10:05 (acceptance, arrival, resolution OLA), Q from 10:10 (its
    # contract has only an acceptance target); P's clocks are cancelled then.
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7), needs_visit=True)
    assign_p(sla_world, ticket, utc(2026, 12, 7, 7, 5))
    url = reverse("ticket_clocks", args=[ticket.pk])
    p_view = groups(get_at(client, sla_world.users["partner_manager_p"], url, utc(2026, 12, 7, 8)))
    with time_machine.travel(utc(2026, 12, 7, 7, 10), tick=False):
        services.ticket_assign(
            actor=sla_world.actor("dispatcher"),
            ticket_id=ticket.pk,
            partner_id=sla_world.partner_q.pk,
        )

    q_view = groups(get_at(client, sla_world.users["partner_manager_q"], url, utc(2026, 12, 7, 8)))
    provider = groups(get_at(client, sla_world.users["dispatcher"], url, utc(2026, 12, 7, 8)))
    p_after = get_at(client, sla_world.users["partner_manager_p"], url, utc(2026, 12, 7, 8))

    # A partner sees its own OLA (and is not told its own name); Q only its acceptance.
    assert p_view["Partner OLA"] == 3
    assert q_view["Partner OLA"] == 1
    # The provider sees every agreement and whose each OLA is.
    assert provider == {"Client SLA": 3, "Partner OLA · Partner P": 3, "Partner OLA · Partner Q": 1}
    assert p_after.status_code == 404  # no longer P's job


def test_saturday_nothing_counts_down_on_the_office_calendar(sla_world):
    # Fri 2026-12-04 10:00 MSK = 07:00Z, P3 on office hours (Mon–Fri 09–18).
    ticket = open_ticket(sla_world, utc(2026, 12, 4, 7), priority="p3")
    friday_close = utc(2026, 12, 4, 15)  # 18:00 MSK
    saturday = utc(2026, 12, 5, 9)  # Sat 12:00 MSK

    at_close = panel_rows(sla_world, ticket, "dispatcher", friday_close)
    on_saturday = panel_rows(sla_world, ticket, "dispatcher", saturday)

    # Resolution 16 h: Friday 10:00–18:00 used 8 h, so 8 h = 28,800 s are left, and on
    # Saturday they still are; the calendar is closed, and counting resumes Mon 09:00 MSK.
    resolution = on_saturday[("sla", "resolution")]
    assert at_close[("sla", "resolution")].reading.remaining_seconds == 28_800
    assert resolution.reading.remaining_seconds == 28_800
    assert resolution.reading.consumed_seconds == 8 * 3600
    assert resolution.reading.counting is False
    assert resolution.reading.next_change == utc(2026, 12, 7, 6)
    assert resolution.state == "running"
    # Response 2 h was due Fri 12:00 MSK: overdue by Friday's 12:00–18:00 only, 6 h of work.
    response = on_saturday[("sla", "response")]
    assert response.state == "overdue"
    assert response.reading.overdue_seconds == 6 * 3600
    assert response.reading.remaining_seconds == 0


def test_saturday_page_carries_the_frozen_countdown(client, sla_world):
    ticket = open_ticket(sla_world, utc(2026, 12, 4, 7), priority="p3")

    response = get_at(
        client,
        sla_world.users["dispatcher"],
        reverse("ticket_clocks", args=[ticket.pk]),
        utc(2026, 12, 5, 9),
    )

    page = re.sub(r"\s+", " ", text(response))
    assert 'data-direction="down" data-seconds="28800" data-counting="false"' in page
    assert ">8:00:00<" in page
    assert 'data-next-change="2026-12-07T06:00:00+00:00"' in page
    assert 'hx-trigger="every 60s, clocks-refresh"' in page
    assert "Cache-Control" in response and response["Cache-Control"] == "no-store"


def test_running_clock_on_an_open_calendar_counts(sla_world):
    # Mon 10:00 MSK, P1 store hours: 20 min later 10 min of the 30-min response are left.
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7))

    rows = panel_rows(sla_world, ticket, "dispatcher", utc(2026, 12, 7, 7, 20))

    response = rows[("sla", "response")]
    assert (response.reading.remaining_seconds, response.reading.counting) == (600, True)
    assert response.reading.next_change == utc(2026, 12, 7, 19)  # closes 22:00 MSK
    # Past the 75 % warning point (22 min 30 s)? Not yet at 20 min: running.
    assert response.state == "running"
    rows = panel_rows(sla_world, ticket, "dispatcher", utc(2026, 12, 7, 7, 25))
    assert rows[("sla", "response")].state == "at_risk"


def test_paused_met_and_breached_clocks_read_frozen(client, sla_world):
    # P1 Mon 10:00 MSK. Assigned at 10:05; accepted at 10:40: the 30-min response is missed
    # by 10 min. Waiting for the client from 11:00: resolution paused with 1 h used.
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7))
    assign_p(sla_world, ticket, utc(2026, 12, 7, 7, 5))
    dispatcher = sla_world.actor("dispatcher")
    for status, at in [
        ("accepted", utc(2026, 12, 7, 7, 40)),
        ("waiting_client", utc(2026, 12, 7, 8)),
    ]:
        with time_machine.travel(at, tick=False):
            services.ticket_transition(actor=dispatcher, ticket_id=ticket.pk, to_status=status)

    rows = panel_rows(sla_world, ticket, "dispatcher", utc(2026, 12, 7, 12))

    assert rows[("sla", "response")].state == "breached"
    assert rows[("sla", "response")].reading.overdue_seconds == 600
    assert rows[("sla", "resolution")].state == "paused"
    assert rows[("sla", "resolution")].reading.remaining_seconds == 7 * 3600
    # The partner accepted 35 min after the offer: 5 min past its 30-min OLA.
    assert rows[("ola", "acceptance")].state == "breached"
    response = get_at(
        client,
        sla_world.users["dispatcher"],
        reverse("ticket_clocks", args=[ticket.pk]),
        utc(2026, 12, 7, 12),
    )
    page = words(response)
    assert "Breached Missed by 0:10:00" in page
    assert "Paused Time left 7:00:00" in page
    assert "stopped 07.12.2026 10:40 (UTC+3)" in page
    assert "1 h used; no due time while paused" in page
    assert "data-countdown" not in text(response)  # nothing ticks
    assert "hx-trigger" not in text(response)  # nothing to refresh


def test_met_clock_shows_its_margin(sla_world):
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7))
    with time_machine.travel(utc(2026, 12, 7, 7, 12), tick=False):
        services.ticket_comment(
            actor=sla_world.actor("dispatcher"), ticket_id=ticket.pk, body="Едем"
        )

    row = panel_rows(sla_world, ticket, "dispatcher", utc(2026, 12, 7, 9))[("sla", "response")]

    assert row.state == "met"
    assert row.reading.remaining_seconds == 18 * 60


def test_ticket_without_a_policy_says_so(client, world):
    client.force_login(world.users["dispatcher"])

    page = text(client.get(reverse("ticket_detail", args=[world.tickets["a1"].pk])))

    assert "No SLA applies to this ticket." in page


def test_clock_panel_query_count_is_flat(client, sla_world):
    # Two SLA clocks vs three SLA and three OLA clocks on the same calendar.
    small = open_ticket(sla_world, utc(2026, 12, 7, 7), priority="p3")
    large = open_ticket(sla_world, utc(2026, 12, 7, 7), needs_visit=True)
    assign_p(sla_world, large, utc(2026, 12, 7, 7, 5))
    user = sla_world.users["dispatcher"]
    get_at(client, user, reverse("ticket_clocks", args=[small.pk]), utc(2026, 12, 7, 8))  # warm
    get_at(client, user, reverse("ticket_clocks", args=[large.pk]), utc(2026, 12, 7, 8))

    with time_machine.travel(utc(2026, 12, 7, 8), tick=False):
        with CaptureQueriesContext(connection) as two:
            client.get(reverse("ticket_clocks", args=[small.pk]))
        with CaptureQueriesContext(connection) as six:
            response = client.get(reverse("ticket_clocks", args=[large.pk]))

    assert text(response).count('class="clock clock--') == 6
    assert len(six) == len(two)


def test_ticket_page_query_count_is_flat_in_clocks(client, sla_world):
    small = open_ticket(sla_world, utc(2026, 12, 7, 7), priority="p3")
    large = open_ticket(sla_world, utc(2026, 12, 7, 7), needs_visit=True)
    for ticket in (small, large):
        assign_p(sla_world, ticket, utc(2026, 12, 7, 7, 5))
    user = sla_world.users["dispatcher"]
    get_at(client, user, reverse("ticket_detail", args=[small.pk]), utc(2026, 12, 7, 8))  # warm
    get_at(client, user, reverse("ticket_detail", args=[large.pk]), utc(2026, 12, 7, 8))

    with time_machine.travel(utc(2026, 12, 7, 8), tick=False):
        with CaptureQueriesContext(connection) as few:
            client.get(reverse("ticket_detail", args=[small.pk]))
        with CaptureQueriesContext(connection) as many:
            client.get(reverse("ticket_detail", args=[large.pk]))

    assert len(many) == len(few)


# --- the list: due column, "due soonest", breached and at risk ---------------------------------


def test_list_sorts_by_due_soonest_with_tickets_without_a_due_last(client, sla_world):
    # Mon 10:00 MSK. P3 (office): response due 12:00 MSK. P1 opened at 10:20: response
    # due 10:50. P2 (24×7) opened at 10:00: response due 11:00. The three tickets of the
    # world fixture have no policy, so no due: they come last.
    p3 = open_ticket(sla_world, utc(2026, 12, 7, 7), priority="p3", subject="Office")
    p1 = open_ticket(sla_world, utc(2026, 12, 7, 7, 20), priority="p1", subject="Urgent")
    p2 = open_ticket(sla_world, utc(2026, 12, 7, 7), priority="p2", subject="Round the clock")

    response = get_at(
        client,
        sla_world.users["dispatcher"],
        reverse("ticket_list") + "?ordering=due",
        utc(2026, 12, 7, 7, 30),
    )

    refs = references(response)
    assert refs[:3] == [p1.reference, p2.reference, p3.reference]
    assert set(refs[3:]) == {t.reference for t in sla_world.tickets.values()}
    page = text(response)
    assert "07.12.2026 10:50 (UTC+3)" in page  # the due column, in the store's time
    assert '<option value="due" selected>' in response.content.decode()
    # Without the sort, newest first as before.
    default = references(
        get_at(
            client, sla_world.users["dispatcher"], reverse("ticket_list"), utc(2026, 12, 7, 7, 30)
        )
    )
    assert default.index(p1.reference) < default.index(p3.reference)


def test_list_due_column_shows_the_state(client, sla_world):
    # P1 at 10:00 MSK: at 10:25 the response is past its warning (22 min 30 s): at risk.
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7))
    sla.sweep_batch(now=utc(2026, 12, 7, 7, 25))

    page = text(
        get_at(
            client, sla_world.users["dispatcher"], reverse("ticket_list"), utc(2026, 12, 7, 7, 25)
        )
    )

    row = page.split(ticket.reference)[1].split("</tr>")[0]
    assert "07.12.2026 10:30 (UTC+3)" in row
    assert "badge--clock-at_risk" in row and "At risk" in row


def _breached_and_at_risk(world):
    """At Mon 10:25 MSK: ``late`` (opened 09:00, response due 09:30) is breached; ``warned``
    (opened 10:00, response warns at 10:22:30, due 10:30) is at risk; ``calm`` is neither."""
    late = open_ticket(world, utc(2026, 12, 7, 6), subject="Late")
    warned = open_ticket(world, utc(2026, 12, 7, 7), subject="Warned")
    calm = open_ticket(world, utc(2026, 12, 7, 7, 20), subject="Calm")
    sla.sweep_batch(now=utc(2026, 12, 7, 7, 25))
    return late, warned, calm


@pytest.mark.parametrize("value", ["true", "on"])
def test_breached_filter(client, sla_world, value):
    late, _warned, _calm = _breached_and_at_risk(sla_world)

    response = get_at(
        client,
        sla_world.users["dispatcher"],
        reverse("ticket_list") + f"?breached={value}",
        utc(2026, 12, 7, 7, 25),
    )

    assert references(response) == [late.reference]
    assert 'name="breached" id="id_breached" checked' in response.content.decode()


def test_at_risk_filter(client, sla_world):
    _late, warned, _calm = _breached_and_at_risk(sla_world)

    response = get_at(
        client,
        sla_world.users["dispatcher"],
        reverse("ticket_list") + "?at_risk=on",
        utc(2026, 12, 7, 7, 25),
    )

    assert references(response) == [warned.reference]


def test_open_only_checkbox_filters(client, sla_world):
    # The filter bar's checkbox sends "on"; it used to be ignored.
    dispatcher = sla_world.actor("dispatcher")
    services.ticket_transition(
        actor=dispatcher, ticket_id=sla_world.tickets["a2"].pk, to_status="cancelled"
    )
    client.force_login(sla_world.users["dispatcher"])

    refs = references(client.get(reverse("ticket_list"), {"is_open": "on"}))

    assert sla_world.tickets["a2"].reference not in refs
    assert sla_world.tickets["a1"].reference in refs


def test_list_query_count_is_flat_with_clocks(client, sla_world):
    user = sla_world.users["dispatcher"]
    for i in range(3):
        open_ticket(sla_world, utc(2026, 12, 7, 7, i), needs_visit=True, subject=f"First {i}")
    at = utc(2026, 12, 7, 8)
    url = reverse("ticket_list") + "?ordering=due&breached=false"
    get_at(client, user, url, at)  # warm the session

    with time_machine.travel(at, tick=False), CaptureQueriesContext(connection) as three:
        client.get(url)
    for i in range(27):
        open_ticket(sla_world, utc(2026, 12, 7, 7, 10 + i), needs_visit=True, subject=f"More {i}")
    with time_machine.travel(at, tick=False), CaptureQueriesContext(connection) as thirty:
        response = client.get(url)

    assert "More 26" in text(response)
    assert len(thirty) == len(three)


def test_timeline_tells_what_happened_to_each_clock(client, sla_world):
    # P1 Mon 10:00 MSK: response due 10:30; accepted 10:40 (10 min late); paused at 11:00.
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7))
    assign_p(sla_world, ticket, utc(2026, 12, 7, 7, 5))
    dispatcher = sla_world.actor("dispatcher")
    for status, at in [
        ("accepted", utc(2026, 12, 7, 7, 40)),
        ("waiting_client", utc(2026, 12, 7, 8)),
    ]:
        with time_machine.travel(at, tick=False):
            services.ticket_transition(actor=dispatcher, ticket_id=ticket.pk, to_status=status)

    page = words(
        get_at(
            client,
            sla_world.users["client_manager_a"],
            reverse("ticket_detail", args=[ticket.pk]),
            utc(2026, 12, 7, 9),
        )
    )

    assert "Response (Client SLA): clock started Due 07.12.2026 10:30 (UTC+3)" in page
    assert "Response (Client SLA): missed Late by 10 min" in page
    assert "Resolution (Client SLA): paused Used so far: 1 h" in page
    assert "Partner OLA" not in page  # the partner's clocks are the provider's business
