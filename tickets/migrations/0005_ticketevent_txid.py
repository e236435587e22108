"""TicketEvent.txid: the inserting transaction's id, the order key of the event feed.

Existing rows get 0: every one of them committed before this migration ran, so none can
appear later behind a cursor, and among themselves they keep their id order. Adding the
column with the constant 0 is a metadata-only change (no table rewrite on a million rows);
only then does the column get its per-transaction default for new rows.
"""

from django.db import migrations, models

import tickets.models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0004_dispatch_escalation"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="ticketevent",
                    name="txid",
                    field=models.BigIntegerField(
                        db_default=tickets.models.CurrentTransactionId(), editable=False
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=[
                        "ALTER TABLE tickets_ticketevent ADD COLUMN txid bigint NOT NULL DEFAULT 0",
                        "ALTER TABLE tickets_ticketevent ALTER COLUMN txid "
                        "SET DEFAULT (pg_current_xact_id()::text::bigint)",
                    ],
                    reverse_sql="ALTER TABLE tickets_ticketevent DROP COLUMN txid",
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="ticketevent",
            index=models.Index(fields=["txid", "id"], name="event_feed"),
        ),
    ]
