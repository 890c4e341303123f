"""settings.effective: the effective document the owning services composed

Rows written before it keep NULL: the gateway composes their document from the owners when
it reads them, and stores it with their next change.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("settings") as batch:
        batch.add_column(sa.Column("effective", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("settings") as batch:
        batch.drop_column("effective")
