"""api_keys, staff, settings: every change notifies the gateway processes (PostgreSQL
only), which keep the identities of active keys while they hear nothing (key_cache.py)"""

from alembic import op

revision = "0006"
down_revision = "0005"

CHANNEL = "revisit_gateway_keys"  # key_cache.CHANNEL
TABLES = ("api_keys", "staff", "settings")  # what Store.find_key reads


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION gateway_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_notify('{CHANNEL}', TG_TABLE_SCHEMA); RETURN NULL; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION gateway_keys_changed()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_keys_changed ON {table}")
    op.execute("DROP FUNCTION gateway_keys_changed()")
