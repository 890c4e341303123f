"""Service databases of tests start as copies of one migrated database.

Migrating a service's SQLite file from nothing takes 20 to 80 ms, and the suite makes
thousands of runtimes and systems. Each process migrates one file per service (through
the same ``migrations.upgrade`` as every start) and copies it where a runtime will look
for its database; the runtime's own upgrade then finds it at the newest revision. A file
already there (a test preparing an older revision) and PostgreSQL are left alone
(PostgreSQL: ``pg_templates``).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from revisit_common import migrations
from revisit_common.config import Settings
from revisit_common.db import Database

_templates: dict[str, Path] = {}
_lock = threading.Lock()
_folder: Path | None = None


def seed(settings: Settings, specs: Iterable) -> None:
    """Copy the migrated template of each of ``specs`` to its SQLite file of ``settings``
    where that file does not exist yet."""
    if settings.database_url or settings.data_dir is None:
        return
    for spec in specs:
        url, _schema = settings.database_for(spec.name)
        if not url.startswith("sqlite:///"):
            continue
        path = Path(url.removeprefix("sqlite:///"))
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_template(spec), path)


def _template(spec) -> Path:
    global _folder
    with _lock:
        if spec.name not in _templates:
            if _folder is None:
                _folder = Path(tempfile.mkdtemp(prefix="revisit-db-templates-"))
                atexit.register(shutil.rmtree, _folder, True)
            path = _folder / f"{spec.name}.sqlite3"
            db = Database(f"sqlite:///{path}")
            try:
                migrations.upgrade(db, spec.migrations)
            finally:
                db.dispose()
            _templates[spec.name] = path
        return _templates[spec.name]
