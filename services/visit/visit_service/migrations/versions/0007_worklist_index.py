"""work lists: an index on (tenant, assignee, due date, id) for ``GET /visits?assignee=me``
over a due range, sorted by due date"""

from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_index(
        "ix_visits_tenant_assignee_due", "visits", ["tenant_id", "assignee", "due_date", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_visits_tenant_assignee_due", "visits")
