"""The audit entry as the API shows it (read-only: entries are written by the database)."""

from __future__ import annotations

from rest_framework import serializers

from audit.models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):
    table = serializers.CharField(source="table_name")
    row_id = serializers.CharField(source="row_pk")
    username = serializers.CharField(allow_null=True, read_only=True)

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "at",
            "table",
            "row_id",
            "action",
            "changed_columns",
            "old_values",
            "new_values",
            "user_id",
            "username",
            "organisation_id",
            "role",
            "request_id",
            "txid",
        ]
        read_only_fields = fields
