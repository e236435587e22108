"""The whole API against its own OpenAPI schema, fuzzed by schemathesis, role by role.

Every operation the live schema lists at run time (endpoints added later are picked up on
their own) gets schemathesis' coverage cases (boundary and invalid values of every
parameter and body field, missing and wrong-typed fields, huge integers, NUL bytes, …) and
a batch of random valid and invalid requests, sent in-process through the WSGI application
to a real PostgreSQL database, authenticated with a real API token of the role. Each
response must:

- never be a server error;
- have a status code, a content type and a body the schema documents for the operation;
- reject what the schema says is invalid;
- carry no text of another tenant (``fuzz_support.seed_markers`` plants a unique tag in each
  tenant's tickets, comments, stores, equipment and names; path parameters are drawn from
  real ids of every tenant, so other tenants' objects are asked for by id).

Deterministic: a fixed seed, derandomized Hypothesis, no example database.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from schemathesis import Case, CheckContext, Response
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import negative_data_rejection

from servicedesk.models import ApiToken
from tests.api import fuzz_support
from tests.api.fuzz_support import ROLE_FORBIDDEN

SCHEMA_PATH = "/api/v1/schema/?format=json"
SEED = 20261129
# The provider administrator may call every operation, so its run goes deep: schemathesis'
# coverage cases (every boundary and invalid value of every parameter and body field, each
# unexpected HTTP method) and then random valid and invalid requests. The other roles mostly
# meet 403/404 on writes; their runs are about reading: random requests only, fewer of them,
# each response searched for other tenants' text. Sizes keep the whole module to a few
# minutes on a developer machine.
DEEP = {"coverage": True, "max_examples": 5}
QUICK = {"coverage": False, "max_examples": 3}
ROLES = {
    "provider_admin": DEEP,
    "dispatcher": QUICK,
    "client_manager_a": QUICK,
    "partner_manager_p": QUICK,
    "store_staff_a1": QUICK,
}
assert set(ROLES) <= set(ROLE_FORBIDDEN)


def _config(role: str) -> SchemathesisConfig:
    depth = ROLES[role]
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",
                "max-examples": depth["max_examples"],
                "deterministic": True,
                "database": "none",
            },
            "checks": {
                # "Schema-valid data must be accepted" does not hold for a service desk: a
                # well-formed request may still name a store that is not yours, a transition
                # the ticket cannot make or a wrong password, and a 400 with field messages
                # is the right answer. Invalid data must still be rejected (the negative
                # check stays on), and every 400 must match the documented error body.
                "positive_data_acceptance": {"enabled": False},
            },
            "phases": {
                "examples": {"enabled": False},
                "coverage": {"enabled": depth["coverage"]},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
        }
    )


@pytest.fixture(params=list(ROLES))
def fuzz_role(request) -> str:
    return request.param


@pytest.fixture
def fuzz_context(transactional_db, world, fuzz_role) -> dict:
    """The world with tagged tenant data, and a real API token of the role."""
    markers = fuzz_support.seed_markers(world)
    actor = world.actor(fuzz_role)
    raw, key_hash = ApiToken.generate()
    ApiToken.objects.create(
        membership_id=actor.membership_id, name="fuzz", key_hash=key_hash, prefix=raw[:8]
    )
    return {
        "headers": {"Authorization": f"Token {raw}"},
        "forbidden": markers.forbidden_for(fuzz_role),
    }


@pytest.fixture
def contract_schema(fuzz_context, fuzz_role):
    loaded = schemathesis.openapi.from_wsgi(
        SCHEMA_PATH, get_wsgi_application(), config=_config(fuzz_role)
    )
    pools = fuzz_support.id_pools(loaded.raw_schema["paths"])

    @loaded.hook
    def flatmap_path_parameters(context, path_parameters):
        return fuzz_support.path_parameters_strategy(context.operation.path, path_parameters, pools)

    return loaded


schema = schemathesis.pytest.from_fixture("contract_schema")


@pytest.fixture
def _pytest_92_node_id(request) -> None:
    """schemathesis 4.32 reads and rewrites ``item._nodeid``, which pytest 9.2 renamed
    (it now keeps a ``NodeId`` in ``_id``); give it the attribute it expects. Only the
    labels of the per-operation sub-reports use it."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


def _no_foreign_text(forbidden: list[str]):
    def no_cross_tenant_leak(ctx: CheckContext, response: Response, case: Case) -> bool | None:
        found = fuzz_support.leaked(response.text or "", forbidden)
        if found:
            raise AssertionError(f"Another tenant's data in the response: {found}")
        return None

    return no_cross_tenant_leak


@schema.parametrize()
@pytest.mark.usefixtures("_pytest_92_node_id")
def test_every_operation_keeps_the_contract(case: Case, fuzz_context: dict) -> None:
    # An empty query parameter means "no filter" (django-filter's rule, and what an HTML form
    # sends for a blank field), so ``?until=`` is not invalid input that must be refused.
    empty_filter = any(value == "" for value in (case.query or {}).values())
    case.call_and_validate(
        headers=fuzz_context["headers"],
        excluded_checks=[negative_data_rejection] if empty_filter else [],
        additional_checks=[_no_foreign_text(fuzz_context["forbidden"])],
    )
