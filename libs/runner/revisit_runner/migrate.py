"""Apply every service's database migrations and exit (the Helm pre-upgrade Job).

python -m revisit_runner.migrate all
python -m revisit_runner.migrate customer visit
"""

from __future__ import annotations

import sys

from revisit_common import database_create, logs, migrations
from revisit_common.config import Settings
from revisit_common.db import Database

from .handover import move_webhooks
from .services import ALL


def main(argv: list[str]) -> int:
    names = list(ALL) if argv in ([], ["all"]) else argv
    unknown = [n for n in names if n not in ALL]
    if unknown:
        print(f"unknown service(s) {', '.join(unknown)}; one of {', '.join(ALL)}", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    logs.configure(settings.log_level)
    for url in sorted({settings.database_for(name)[0] for name in names}):
        if database_create.create_missing(url):
            print(f"created the database of {url.rsplit('/', 1)[-1]}", file=sys.stderr)
    if {"complaint", "notify"} & set(names):
        move_webhooks(settings)  # before complaint's 0004 drops its webhook tables
    for name in names:
        url, schema = settings.database_for(name)
        db = Database(url, schema, pool_size=1, max_overflow=0)  # one connection at a time
        try:
            migrations.upgrade(db, ALL[name].migrations)
        finally:
            db.dispose()
        print(f"migrated {name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
