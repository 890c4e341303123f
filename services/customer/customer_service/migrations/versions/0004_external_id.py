"""customers.external_id: the customer's id in the tenant's own system (ERP), unique per
tenant; ``POST /customers/import`` matches rows by it. Customers before it have none."""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("external_id", sa.String(100), nullable=True))
    op.create_index(
        "uq_customers_external_id", "customers", ["tenant_id", "external_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_customers_external_id", "customers")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("external_id")
