"""The audit trail: one row per inserted, updated or deleted row of the watched tables.

Rows are written by a PostgreSQL trigger (migration 0001), never by Django: bulk updates,
raw SQL and the admin are caught the same way as services. Who acted comes from the
transaction's settings (``servicedesk.db_context``); rows are append-only (a trigger
refuses UPDATE, DELETE and TRUNCATE).
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    INSERT = "INSERT", _("created")
    UPDATE = "UPDATE", _("changed")
    DELETE = "DELETE", _("deleted")


class AuditEntry(models.Model):
    """One change of one row, with the actor's user, organisation, role and request id as
    the transaction declared them (empty for changes made outside a request or task).

    For an UPDATE only the changed columns are kept (old and new values); secrets are kept
    as ``"[redacted]"``. Ids are not foreign keys on purpose: an entry outlives its row
    and its user.
    """

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(_("at"), db_default=Now())
    table_name = models.CharField(_("table"), max_length=63)
    row_pk = models.CharField(_("row id"), max_length=64)
    action = models.CharField(_("action"), max_length=6, choices=AuditAction.choices)
    changed_columns = ArrayField(
        models.CharField(max_length=63), verbose_name=_("changed columns"), default=list
    )
    old_values = models.JSONField(_("old values"), null=True, blank=True)
    new_values = models.JSONField(_("new values"), null=True, blank=True)
    user_id = models.BigIntegerField(_("user id"), null=True, blank=True)
    organisation_id = models.BigIntegerField(_("organisation id"), null=True, blank=True)
    role = models.CharField(_("role"), max_length=32, blank=True, default="")
    request_id = models.CharField(_("request id"), max_length=64, blank=True, default="")
    txid = models.BigIntegerField(_("transaction id"))

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(fields=["table_name", "row_pk", "-id"], name="audit_table_row_idx"),
            models.Index(fields=["user_id", "-id"], name="audit_user_idx"),
            models.Index(fields=["at"], name="audit_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.table_name}#{self.row_pk}"
