import os
from datetime import datetime, timedelta, timezone

from agents.worker.snapshots import purge_snapshots

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)


def aged(path, days):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8jpeg")
    t = (NOW - timedelta(days=days)).timestamp()
    os.utime(path, (t, t))
    return path


def test_snapshots_older_than_the_cutoff_are_deleted_and_nothing_else(tmp_path):
    folder = tmp_path / "snapshots"
    old = aged(folder / "cam-xaxia-01" / "old.jpg", 31)
    recent = aged(folder / "cam-xaxia-01" / "recent.jpg", 29)
    outside = aged(tmp_path / "elsewhere" / "keep.jpg", 90)
    (folder / "link.jpg").symlink_to(outside)
    os.utime(folder / "link.jpg", (outside.stat().st_mtime,) * 2, follow_symlinks=False)
    (folder / "linked-dir").symlink_to(outside.parent, target_is_directory=True)

    assert purge_snapshots(folder, NOW - timedelta(days=30)) == 1
    assert not old.exists()
    assert recent.exists() and outside.exists() and (folder / "link.jpg").is_symlink()
    assert purge_snapshots(folder, NOW - timedelta(days=30)) == 0


def test_a_missing_folder_is_nothing_to_purge(tmp_path):
    assert purge_snapshots(tmp_path / "none", NOW) == 0
