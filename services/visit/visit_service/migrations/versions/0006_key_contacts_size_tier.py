"""key contacts and large customers: a contact's decision-maker flag (care of key contacts)
and the customer's size tier (large customers are visited on site)"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    with op.batch_alter_table("care_contacts") as batch:
        batch.add_column(sa.Column("decision_maker", sa.Boolean))
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("size_tier", sa.String(10)))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("size_tier")
    with op.batch_alter_table("care_contacts") as batch:
        batch.drop_column("decision_maker")
