"""Running purchase sums: ``purchase_sums`` (a customer's purchases per UTC day and per UTC
month, amount in cents and count) and ``customers.purchase_count``, both filled from the
purchases recorded before, so the 12-month windows never scan a customer's purchases."""

from datetime import UTC

import sqlalchemy as sa
from alembic import op

from revisit_common.db import UtcDateTime

revision = "0005"
down_revision = "0004"

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(
            sa.Column("purchase_count", sa.Integer, nullable=False, server_default="0")
        )
    sums = op.create_table(
        "purchase_sums",
        sa.Column(
            "customer_id",
            sa.String(36),
            sa.ForeignKey("customers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("span", sa.String(5), primary_key=True),
        sa.Column("start", sa.Date, primary_key=True),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
    )
    fill(op.get_bind(), sums)


def fill(conn, sums: sa.Table) -> None:
    """Sum the recorded purchases per customer and UTC day and month (the rule of
    ``customer_service.purchase_windows``, written out here as it stood), and count them."""
    purchases = sa.table(
        "purchases",
        sa.column("customer_id", sa.String),
        sa.column("amount", sa.Numeric(18, 2)),
        sa.column("purchased_at", UtcDateTime),
    )
    totals: dict[tuple[str, str, object], list[int]] = {}
    counts: dict[str, int] = {}
    rows = conn.execute(
        sa.select(purchases.c.customer_id, purchases.c.amount, purchases.c.purchased_at)
    )
    for customer_id, amount, purchased_at in rows:
        day = purchased_at.astimezone(UTC).date()
        amount_cents = int(amount * 100)
        for key in ((customer_id, "day", day), (customer_id, "month", day.replace(day=1))):
            total = totals.setdefault(key, [0, 0])
            total[0] += amount_cents
            total[1] += 1
        counts[customer_id] = counts.get(customer_id, 0) + 1
    values = [
        {"customer_id": c, "span": s, "start": d, "amount_cents": a, "count": n}
        for (c, s, d), (a, n) in totals.items()
    ]
    for first in range(0, len(values), BATCH):
        conn.execute(sa.insert(sums), values[first : first + BATCH])
    customers = sa.table("customers", sa.column("id"), sa.column("purchase_count"))
    update = (
        sa.update(customers)
        .where(customers.c.id == sa.bindparam("cid"))
        .values(purchase_count=sa.bindparam("n"))
    )
    items = [{"cid": c, "n": n} for c, n in counts.items()]
    for first in range(0, len(items), BATCH):
        conn.execute(update, items[first : first + BATCH])


def downgrade() -> None:
    op.drop_table("purchase_sums")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("purchase_count")
