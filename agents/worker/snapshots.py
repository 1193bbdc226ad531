"""Camera snapshots kept for ``IOC_SNAPSHOT_DAYS``: the worker's housekeeping deletes the files of
``IOC_SNAPSHOT_DIR`` (the folder of snapshots referenced by a relative path, which the operations
centre owns) last modified before then.  Links are never followed and never deleted, and a file that
cannot be deleted is logged and left for the next round; the dashboard already refuses to show a
snapshot older than the same number of days.
"""
from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)


def purge_snapshots(folder: Path, before: datetime) -> int:
    """Deletes the regular files under ``folder`` last modified before ``before``; how many."""
    if not folder.is_dir():
        return 0
    cutoff = before.timestamp()
    deleted = 0
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in files:
            path = Path(root) / name
            try:
                st = path.lstat()
                if path.is_symlink() or not path.is_file() or st.st_mtime >= cutoff:
                    continue
                path.unlink()
                deleted += 1
            except OSError as exc:
                log.warning("snapshot %s not deleted: %s", path, exc.strerror or exc)
    return deleted
