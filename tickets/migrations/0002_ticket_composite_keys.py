"""Composite foreign keys Django cannot express: what belongs together stays together.

A ticket's store must belong to the ticket's client, and its equipment to its store, even
for rows written by hand, by a bulk import or by a future bug in a service.
"""

from django.db import migrations

FORWARD = """
ALTER TABLE tickets_ticket
    ADD CONSTRAINT ticket_store_belongs_to_client
    FOREIGN KEY (store_id, client_id) REFERENCES clients_store (id, client_id)
    DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE tickets_ticket
    ADD CONSTRAINT ticket_equipment_belongs_to_store
    FOREIGN KEY (equipment_id, store_id) REFERENCES clients_equipment (id, store_id)
    ON DELETE SET NULL (equipment_id)
    DEFERRABLE INITIALLY DEFERRED;
"""

BACKWARD = """
ALTER TABLE tickets_ticket DROP CONSTRAINT ticket_equipment_belongs_to_store;
ALTER TABLE tickets_ticket DROP CONSTRAINT ticket_store_belongs_to_client;
"""


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial"), ("clients", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
