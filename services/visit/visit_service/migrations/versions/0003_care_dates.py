"""care: contacts' dates copied from the customer service (filled in by the #13 work)"""

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
