"""webhook delivery logs keep no response bodies: errors cut to their class

Before this revision an attempt's error held up to 300 bytes of the receiver's answer
("HTTP 500: <body>") or the HTTP client's exception text (which names the URL's path). Both
are cut to the part before the first colon ("HTTP 500", "ConnectionError"), what the delivery
code records from now on.
"""

from alembic import op

revision = "0003"
down_revision = "0002"

COLUMNS = (("webhook_attempts", "error"), ("webhook_deliveries", "last_error"))


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, column in COLUMNS:
        head = (
            f"split_part({column}, ':', 1)"
            if postgres
            else f"substr({column}, 1, instr({column}, ':') - 1)"
        )
        op.execute(f"UPDATE {table} SET {column} = {head} WHERE {column} LIKE '%:%'")


def downgrade() -> None:
    """Nothing to restore: the bodies are gone."""
