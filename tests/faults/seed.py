"""A minimal desk in the database ``DATABASE_URL`` names, for fault tests whose application
runs in other processes: a dispatcher with an API token, a client that auto-dispatches field
tickets, a Moscow store and two operational partners covering it, each with a manager who
has an e-mail address. Prints one JSON line with the ids and the raw token.

Run as ``python -m tests.faults.seed`` with ``DJANGO_SETTINGS_MODULE`` and ``DATABASE_URL``
set (the database migrated).
"""

from __future__ import annotations

import json


def seed() -> dict:
    from servicedesk.models import ApiToken, Membership
    from tests.tickets.celery_field_support import field_desk

    desk = field_desk(partners=[("Partner P", 3600, 7200), ("Partner Q", 3600, 7200)])
    for manager in desk.managers.values():
        manager.email = f"{manager.username}@partner.example"
        manager.save(update_fields=["email"])
    membership = Membership.objects.get(user=desk.dispatcher)
    raw, key_hash = ApiToken.generate()
    ApiToken.objects.create(membership=membership, name="fault test", key_hash=key_hash,
                            prefix=raw[:8])  # fmt: skip
    return {
        "token": raw,
        "store": desk.store.pk,
        "competency": desk.competency.pk,
        "partners": [partner.pk for partner in desk.partners],
    }


def main() -> None:
    import django

    django.setup()
    print(json.dumps(seed()))


if __name__ == "__main__":
    main()
