"""``/snapshots/<camera>/<event id>``: a track's snapshot, read by the dashboard and passed on.

The browser only ever sees this path: the reference the event carries (a camera's or a video
recorder's URL, or a file name) stays on the server.  A reference that is a relative path is read
from ``IOC_SNAPSHOT_DIR``; an ``http(s)`` one is fetched (image types only, at most 8 MB, 5 s).
Who may look: ``auth.roles.may_view_snapshots`` (operators and admins; wall screens only with
``IOC_DASH_WALL_SNAPSHOTS=1``); a snapshot older than ``IOC_SNAPSHOT_DAYS`` is not shown.  Every
view and every refusal is written to ``auth_event`` (``snapshot_viewed``, ``snapshot_refused``).
"""
from __future__ import annotations

import logging
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath
from typing import Any

from flask import current_app, has_request_context, make_response

from agents.indicators.queries.camera import TRACK_SNAPSHOT
from ioc_dash.auth.roles import may_view_snapshots
from ioc_dash.auth.web import current_principal
from ioc_dash.i18n import request_lang, t
from streams.core.settings import Settings
from streams.db.connect import Pool
from streams.db.errors import translated

log = logging.getLogger("ioc.snapshots")
MAX_BYTES = 8 * 1024 * 1024
FETCH_TIMEOUT_S = 5.0
TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


def allowed() -> bool:
    """May the current request's principal see snapshots?  False outside a request or without sign-in."""
    if not has_request_context() or "ioc_auth" not in current_app.extensions:
        return False
    settings: Settings = current_app.config["IOC_SETTINGS"]
    return may_view_snapshots(current_principal(), wall_allowed=settings.dash_wall_snapshots)


def local_file(reference: str, folder: Path) -> Path | None:
    """The file a relative reference names inside ``folder``; None for anything that would leave it."""
    rel = PurePosixPath(reference)
    if rel.is_absolute() or ".." in rel.parts or "\\" in reference or not rel.parts:
        return None
    if rel.suffix.lower() not in TYPES:
        return None
    path = (folder / rel).resolve()
    return path if path.is_relative_to(folder.resolve()) else None


def read_remote(reference: str) -> tuple[bytes, str]:
    """An image fetched from the reference's URL (redirects not followed); ValueError when it is not one."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with opener.open(urllib.request.Request(reference, headers={"Accept": "image/*"}), timeout=FETCH_TIMEOUT_S) as resp:
        kind = resp.headers.get_content_type()
        if not kind.startswith("image/"):
            raise ValueError(f"not an image: {kind}")
        body = resp.read(MAX_BYTES + 1)
    if len(body) > MAX_BYTES:
        raise ValueError("larger than the limit")
    return body, kind


class Snapshots:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool = Pool(settings.dsn, role="snapshots", max_size=1, timeout_s=3, dict_rows=True)

    def reference(self, camera: str, event_id: str) -> dict[str, Any] | None:
        with translated("dashboard cannot read snapshots", limit=200), self.pool.connection() as conn:
            return conn.execute(TRACK_SNAPSHOT, {"camera": camera, "event_id": event_id,
                                                 "days": self.settings.snapshot_days}).fetchone()

    def view(self, camera: str, event_id: str):
        lang = request_lang()
        gate = current_app.extensions.get("ioc_auth")
        principal = current_principal()
        subject = f"{camera[:64]}/{event_id[:128]}"
        if gate is None or not allowed():
            if gate is not None and principal is not None:
                gate.store.audit(principal.name, "snapshot_refused", subject, {"as": principal.kind})
            return _text(403, t("snapshot_forbidden", lang))
        row = self.reference(camera, event_id)
        if row is None or not row.get("snapshot"):
            return _text(404, t("snapshot_missing", lang))
        try:
            body, kind = self.read(row["snapshot"])
        except (OSError, ValueError, urllib.error.URLError) as exc:
            log.warning("snapshot of %s not read: %s", subject, type(exc).__name__)  # never the reference
            return _text(502, t("snapshot_unavailable", lang))
        gate.store.audit(principal.name, "snapshot_viewed", subject, {"as": principal.kind})
        resp = make_response(body, 200)
        resp.headers["Content-Type"] = kind
        resp.headers["Cache-Control"] = "no-store"
        return resp

    def read(self, reference: str) -> tuple[bytes, str]:
        if reference.startswith(("http://", "https://")):
            return read_remote(reference)
        path = local_file(reference, self.settings.snapshots_dir)
        if path is None:
            raise ValueError("reference outside the snapshot folder")
        return path.read_bytes(), TYPES[path.suffix.lower()]


def _text(status: int, message: str):
    return make_response(message, status, {"Content-Type": "text/plain; charset=utf-8"})


def install(app, settings: Settings) -> Snapshots:
    snapshots = Snapshots(settings)
    app.server.add_url_rule("/snapshots/<camera>/<path:event_id>", "ioc_snapshot", snapshots.view)
    return snapshots
