import shutil

import pytest

from streams.db.migrate import MIGRATIONS_DIR, load_migrations, migrate
from streams.core.errors import MigrationError


def test_file_names_are_checked(tmp_path):
    (tmp_path / "1_bad.sql").write_text("SELECT 1")
    with pytest.raises(MigrationError, match="NNN_name.sql"):
        load_migrations(tmp_path)


def test_migrate_twice_changes_nothing_and_edited_files_are_refused(test_settings, db, tmp_path):
    assert migrate(test_settings.dsn, log=lambda *_: None) == []  # the session already migrated
    tables = {r[0] for r in db.execute("SELECT hypertable_name FROM timescaledb_information.hypertables")}
    assert {"health_event", "health_window", "source_window"} <= tables
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, copy)
    first = sorted(copy.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(test_settings.dsn, directory=copy, log=lambda *_: None)
