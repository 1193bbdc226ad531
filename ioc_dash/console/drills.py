"""/console/drills (admin): start a drill (``ioc drill NAME``) or a replay (``ioc replay FILE``),
follow its output, stop it.  Each start and stop is audited in ``auth_event``."""
from __future__ import annotations

import threading
from pathlib import Path

from dash import Input, Output, State, ctx, dcc, hooks, html, no_update
from flask import current_app

from ioc_dash.auth import can, current_principal, guard_outputs, require
from ioc_dash.console.common import LANG_STORE, lang_store, settings, user_store
from ioc_dash.console.jobs import JobRunner
from ioc_dash.console.views import forbidden, nav, parse_drill_list
from ioc_dash.figures import local_time
from ioc_dash.i18n import t
from streams.core.errors import IOCError
from streams.core.settings import PACKAGE_ROOT

PATH = "/console/drills"
MESSAGE, STATUS, OUTPUT = "console-job-msg", "console-job-status", "console-job-output"
guard_outputs({MESSAGE: "drills.run", STATUS: "drills.run", OUTPUT: "drills.run"})
_lock = threading.Lock()


def runner() -> JobRunner:
    ext = current_app.extensions
    with _lock:
        if "ioc_jobs" not in ext:
            ext["ioc_jobs"] = JobRunner(settings().to_env(), cwd=PACKAGE_ROOT)
        return ext["ioc_jobs"]


def drills() -> list[tuple[str, str]]:
    """(name, title) of the scenarios, from ``ioc drill --list`` once per process."""
    ext = current_app.extensions
    if "ioc_drills" not in ext:  # an IOCError here is shown, and the next visit tries again
        ext["ioc_drills"] = parse_drill_list(runner().list_output(["drill", "--list"]))
    return ext["ioc_drills"]


def recordings(folder: Path) -> list[str]:
    """Files directly in the recordings folder, newest first."""
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    return [p.name for p in sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)]


def speed(value, *, allow_max: bool = False) -> str:
    if allow_max and str(value).strip().lower() == "max":
        return "max"
    try:
        s = float(value)
    except (TypeError, ValueError):
        raise IOCError(f"speed {value!r} is not a number") from None
    if not 0 < s <= 1000:
        raise IOCError(f"speed {s:g} must be above 0 and at most 1000")
    return f"{s:g}"


def layout(lang: str) -> html.Div:
    principal = current_principal()
    if not can(principal, "drills.run"):
        return forbidden(principal, lang, PATH)
    folder = settings().recordings_dir
    try:
        drill_options = [{"label": title, "value": name} for name, title in drills()]
    except IOCError as exc:
        drill_options = [{"label": str(exc), "value": "", "disabled": True}]
    recs = recordings(folder)
    return html.Div([
        nav(principal, lang, PATH),
        lang_store(lang),
        dcc.Interval(id="console-job-tick", interval=1000),
        html.H1(t("con_drills", lang)),
        html.Div([html.H2(t("con_drill", lang)),
                  dcc.Dropdown(drill_options, id="console-drill"),
                  html.Label([t("con_speed", lang), dcc.Input(id="console-drill-speed", type="number", value=1,
                                                              min=0.1, max=1000)]),
                  html.Button(t("con_btn_start_drill", lang), id="console-start-drill", n_clicks=0)],
                 className="panel"),
        html.Div([html.H2(t("con_recording", lang)),
                  # always in the page, even empty: the start callback reads its value (State)
                  dcc.Dropdown(recs, id="console-recording", disabled=not recs),
                  html.P(t("con_no_recordings", lang).format(dir=folder), id="console-no-recordings")
                  if not recs else None,
                  html.Label([t("con_speed", lang), dcc.Input(id="console-replay-speed", type="text", value="1")]),
                  html.Button(t("con_btn_start_replay", lang), id="console-start-replay", n_clicks=0)],
                 className="panel"),
        html.Div([html.H2(t("con_job", lang)),
                  html.Button(t("con_btn_stop", lang), id="console-stop", n_clicks=0),
                  html.Div(id=MESSAGE, role="status"), html.Div(id=STATUS),
                  html.Pre(id=OUTPUT, className="console-output"),
                  html.A(t("con_drill_runs", lang), href="/console/drills/runs", id="console-runs-link")],
                 className="panel"),
    ], className="console")


@hooks.callback(
    Output(MESSAGE, "children"),
    Input("console-start-drill", "n_clicks"),
    Input("console-start-replay", "n_clicks"),
    Input("console-stop", "n_clicks"),
    State("console-drill", "value"),
    State("console-drill-speed", "value"),
    State("console-recording", "value"),
    State("console-replay-speed", "value"),
    State(LANG_STORE, "data"),
    prevent_initial_call=True,
)
def control(_d, _r, _s, drill, drill_speed, recording, replay_speed, lang):
    principal = require("drills.run")
    run = runner()
    try:
        if ctx.triggered_id == "console-stop":
            if run.stop():
                user_store().audit(principal.name, "run_stopped", run.current().title)
            return no_update
        if ctx.triggered_id == "console-start-drill":
            if drill not in {name for name, _ in drills()}:
                raise IOCError("choose a drill")
            s = speed(drill_speed)
            job = run.start(f"drill {drill}", ["drill", drill, "--speed", s, "--by", principal.name], principal.name)
            user_store().audit(principal.name, "drill_started", drill, {"speed": s})
        else:
            folder = settings().recordings_dir
            if recording not in recordings(folder):  # only a file listed in the folder: no path from the page
                raise IOCError("choose a recording")
            s = speed(replay_speed, allow_max=True)
            job = run.start(f"replay {recording}", ["replay", str(folder / recording), "--speed", s,
                                                    "--shift-to-now"], principal.name)
            user_store().audit(principal.name, "replay_started", recording, {"speed": s})
    except IOCError as exc:
        return html.Span(t("con_failed", lang).format(error=exc), className="console-error")
    return html.Span(f"{job.title} · {t('con_job_running', lang)}", className="console-ok")


@hooks.callback(
    Output(STATUS, "children"),
    Output(OUTPUT, "children"),
    Input("console-job-tick", "n_intervals"),
    State(LANG_STORE, "data"),
)
def status(_n, lang):
    require("drills.run")
    job = runner().current()
    if job is None:
        return t("con_job_none", lang), ""
    state = t("con_job_running", lang) if job.running else t("con_job_exited", lang).format(code=job.returncode)
    line = f"#{job.id} {job.title} · {job.started_by} · {local_time(job.started_at)} · {state}"
    return html.Strong(line, id="console-job-line"), job.output()
