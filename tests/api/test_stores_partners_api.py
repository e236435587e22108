"""Read endpoints for stores, equipment, clients, regions and partners, scoped per role."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import EquipmentFactory, PartnerFactory, StoreFactory
from tickets import services as ticket_services


def codes(response, key: str = "code") -> set:
    assert response.status_code == 200, response.content
    return {row[key] for row in response.json()["results"]}


# -- stores --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "visible"),
    [
        ("dispatcher", {"A1", "A2", "B1"}),
        ("client_manager_a", {"A1", "A2"}),
        ("store_staff_a1", {"A1"}),
        ("client_manager_b", {"B1"}),
        ("partner_manager_p", {"A1"}),  # where its jobs are
        ("engineer_p", {"A1"}),
        ("engineer_p2", set()),
        ("partner_manager_q", {"B1"}),
    ],
)
def test_each_role_lists_only_its_stores(world, api_for, user, visible):
    response = api_for(world.users[user]).get("/api/v1/stores/")

    assert codes(response) == visible


def test_store_detail_in_and_out_of_scope(world, api_for):
    client = api_for(world.users["client_manager_a"])

    own = client.get(f"/api/v1/stores/{world.store_a2.pk}/")
    foreign = client.get(f"/api/v1/stores/{world.store_b1.pk}/")

    assert own.status_code == 200
    body = own.json()
    assert body["client"] == {"id": world.client_a.pk, "code": "AAA", "name": "Client A"}
    assert body["region"]["code"] == "RU-KAM"
    assert body["time_zone"] == "Asia/Kamchatka"
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "not_found"


def test_store_filters(world, api_for):
    client = api_for(world.users["dispatcher"])

    assert codes(client.get("/api/v1/stores/", {"client": world.client_b.pk})) == {"B1"}
    assert codes(client.get("/api/v1/stores/", {"region": "ru-kam"})) == {"A2"}
    assert codes(client.get("/api/v1/stores/", {"q": "a1"})) == {"A1"}
    assert codes(client.get("/api/v1/stores/", {"q": "Москва"})) == {"A1", "A2", "B1"}


def test_filter_cannot_widen_the_scope(world, api_for):
    # given client A's manager asks for client B's stores explicitly
    response = api_for(world.users["client_manager_a"]).get(
        "/api/v1/stores/", {"client": world.client_b.pk}
    )

    # then the filter narrows within its scope: nothing
    assert codes(response) == set()


def test_bad_store_filter_is_400_naming_it(world, api_for):
    response = api_for(world.users["dispatcher"]).get("/api/v1/stores/", {"client": "abc"})

    assert response.status_code == 400
    assert "client" in response.json()["error"]["fields"]


def test_store_pages(world, api_for):
    response = api_for(world.users["dispatcher"]).get(
        "/api/v1/stores/", {"page_size": 2, "ordering": "-code"}
    )

    body = response.json()
    assert body["count"] == 3
    assert [row["code"] for row in body["results"]] == ["B1", "A2"]
    assert body["next"] is not None


def test_store_list_query_count_does_not_grow_with_rows(
    world, api_for, django_assert_max_num_queries
):
    # given
    client = api_for(world.users["client_manager_a"])
    assert client.get("/api/v1/stores/").status_code == 200  # last-used stamp written

    def list_size() -> int:
        # token + count + page
        with django_assert_max_num_queries(3):
            response = client.get("/api/v1/stores/", {"page_size": 100})
        return len(response.json()["results"])

    # when / then: the same bound with 3 stores and with 30
    assert list_size() == 2
    StoreFactory.create_batch(28, client=world.client_a, region=world.store_a2.region)
    assert list_size() == 30


# -- equipment, clients, regions -----------------------------------------------------------


def test_equipment_is_scoped_and_filterable(world, api_for):
    client = api_for(world.users["client_manager_a"])

    everything = client.get("/api/v1/equipment/").json()["results"]
    at_a1 = client.get("/api/v1/equipment/", {"store": world.store_a1.pk}).json()["results"]

    assert {row["store"]["code"] for row in everything} == {"A1", "A2"}
    assert [row["store"]["code"] for row in at_a1] == ["A1"]
    assert client.get("/api/v1/equipment/", {"kind": "toaster"}).status_code == 400


def test_equipment_list_query_count_does_not_grow_with_rows(
    world, api_for, django_assert_max_num_queries
):
    client = api_for(world.users["dispatcher"])
    assert client.get("/api/v1/equipment/").status_code == 200

    with django_assert_max_num_queries(3):
        assert client.get("/api/v1/equipment/").json()["count"] == 3
    EquipmentFactory.create_batch(27, store=world.store_b1)
    with django_assert_max_num_queries(3):
        assert client.get("/api/v1/equipment/").json()["count"] == 30


@pytest.mark.parametrize(
    ("user", "visible"),
    [
        ("dispatcher", {"AAA", "BBB"}),
        ("client_manager_a", {"AAA"}),
        ("store_staff_a1", {"AAA"}),
        ("partner_manager_q", {"BBB"}),
        ("engineer_p", {"AAA"}),
        ("engineer_p2", set()),
    ],
)
def test_clients_are_scoped(world, api_for, user, visible):
    assert codes(api_for(world.users[user]).get("/api/v1/clients/")) == visible


def test_regions_are_reference_data_for_every_actor(world, api_for):
    client = api_for(world.users["engineer_p2"])

    listed = codes(client.get("/api/v1/regions/"))
    one = client.get("/api/v1/regions/RU-KAM/")

    assert {"RU-MOW", "RU-KAM"} <= listed
    assert one.status_code == 200
    assert one.json()["time_zone"] == "Asia/Kamchatka"
    assert client.get("/api/v1/regions/XX-NOPE/").status_code == 404


# -- partners ------------------------------------------------------------------------------


def names(response) -> set[str]:
    return codes(response, key="name")


@pytest.mark.parametrize(
    ("user", "visible"),
    [
        ("dispatcher", {"Partner P", "Partner Q"}),
        ("partner_manager_p", {"Partner P"}),
        ("engineer_q", {"Partner Q"}),
        ("client_manager_a", {"Partner P"}),  # working on its ticket a1
        ("store_staff_a1", {"Partner P"}),
        ("client_manager_b", {"Partner Q"}),
    ],
)
def test_each_role_lists_only_its_partners(world, api_for, user, visible):
    assert names(api_for(world.users[user]).get("/api/v1/partners/")) == visible


def test_partner_detail_of_another_partner_is_404(world, api_for):
    client = api_for(world.users["partner_manager_p"])

    assert client.get(f"/api/v1/partners/{world.partner_p.pk}/").status_code == 200
    assert client.get(f"/api/v1/partners/{world.partner_q.pk}/").status_code == 404


def test_partner_filters_by_kind_and_region(world, api_for):
    # given a specialist with no coverage in Moscow
    PartnerFactory(organisation__name="Security S", kind="specialist")
    client = api_for(world.users["dispatcher"])

    assert names(client.get("/api/v1/partners/", {"kind": "specialist"})) == {"Security S"}
    assert names(client.get("/api/v1/partners/", {"region": "RU-MOW"})) == {
        "Partner P",
        "Partner Q",
    }
    assert names(client.get("/api/v1/partners/", {"region": "RU-KAM"})) == set()


def test_region_filter_does_not_reveal_coverage_to_clients(world, api_for):
    # given client A sees Partner P, which covers Moscow
    client = api_for(world.users["client_manager_a"])

    # when filtering by that region
    response = client.get("/api/v1/partners/", {"region": "RU-MOW"})

    # then coverage is not the client's to see: no partner matches
    assert names(response) == set()


def test_partner_list_query_count_does_not_grow_with_rows(
    world, api_for, django_assert_max_num_queries
):
    client = api_for(world.users["dispatcher"])
    assert client.get("/api/v1/partners/").status_code == 200

    with django_assert_max_num_queries(3):
        assert client.get("/api/v1/partners/").json()["count"] == 2
    PartnerFactory.create_batch(28)
    with django_assert_max_num_queries(3):
        assert client.get("/api/v1/partners/").json()["count"] == 30


def test_client_sees_a_new_partner_once_it_works_on_its_ticket(world, api_for):
    # given Partner Q is not visible to client A
    client = api_for(world.users["client_manager_a"])
    assert "Partner Q" not in names(client.get("/api/v1/partners/"))

    # when a dispatcher gives client A's ticket a2 to Partner Q
    ticket_services.ticket_assign(
        actor=world.actor("dispatcher"),
        ticket_id=world.tickets["a2"].pk,
        partner_id=world.partner_q.pk,
    )

    # then it is
    assert "Partner Q" in names(client.get("/api/v1/partners/"))


@pytest.mark.parametrize(
    "url",
    ["/api/v1/stores/", "/api/v1/partners/", "/api/v1/regions/", "/api/v1/equipment/"],
)
def test_read_endpoints_need_authentication(world, url):
    response = APIClient().get(url)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_read_endpoints_are_read_only(world, api_for, method):
    client = api_for(world.users["provider_admin"])

    response = getattr(client, method)(f"/api/v1/stores/{world.store_a1.pk}/", {})

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
