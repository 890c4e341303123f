"""issue stages and confirmation; the case library (filled in by the #13 work)"""

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
