"""contact before a visit is done: when an email visit's customer replied, and the
appointment an on-site visit is booked for"""

import sqlalchemy as sa
from alembic import op

from revisit_common.migrations import TS

revision = "0005"
down_revision = "0004"

VISIT_COLUMNS = ("replied_at", "appointment_at")


def upgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        for name in VISIT_COLUMNS:
            batch.add_column(sa.Column(name, TS))


def downgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        for name in reversed(VISIT_COLUMNS):
            batch.drop_column(name)
