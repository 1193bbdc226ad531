"""The operator console: pages under /console, merged into the wall's router.

``PAGES`` maps a path to ``(title key, layout(lang))``; the titles and every other text are in
``ioc_dash/locale/console.yaml``.  Importing this package registers the console's callbacks as
``dash.hooks.callback``, which every Dash app created *afterwards* in the process gets; the router
must allow callbacks for components not in the first layout (``suppress_callback_exceptions=True``).
Role checks happen on the server: in each layout (what is shown), before a guarded callback runs
(``ioc_dash.auth.guard_outputs``) and inside it.

    path               title key    who
    /console           con_alerts   viewer, operator, admin, wall token (read-only)
    /console/alerts    con_alerts   same
    /console/alert     con_alert    same; the actions only for operator and admin  (?id=N)
    /console/drills    con_drills   admin
    /console/drills/runs  con_drill_runs  every role that may view (the after-action reviews)
    /console/drills/run   con_after_action  same  (?id=N; /console/drills/run.csv?id=N exports it)
    /console/users     con_users    admin
    /console/quiet     con_quiet    every role that may view; adding and ending silences and maintenance
                                    windows for operator and admin
    /console/register  con_register every role that may view; editing, retiring and importing for admin
                                    (/console/register.csv and .xlsx export it, for every role but a wall token)
    /console/incidents con_incidents  every role that may view; incidents, open first
    /console/incident  con_incident   same; take ownership, note, rename, close for operator and admin  (?id=N;
                                      /console/incident/report?id=N&format=json|html|pdf is its report)
    /console/handover  con_handover   same; operator and admin write and acknowledge handovers
    /console/reports   con_reports    every role that may view; operator and admin make one on demand
                                      (/console/reports/file?id=N downloads a file, not for a wall token)
    /console/sla       con_sla        every role that may view; a calendar month's service levels  (?month=YYYY-MM)
"""
from ioc_dash.console import afteraction, alerts, detail, drills, quiet, register, users
from ioc_dash.console import handover, incidents, reports, sla

PAGES = {
    "/console": ("con_alerts", alerts.layout),
    alerts.PATH: ("con_alerts", alerts.layout),
    detail.PATH: ("con_alert", detail.layout),
    drills.PATH: ("con_drills", drills.layout),
    afteraction.RUNS_PATH: ("con_drill_runs", afteraction.runs_layout),
    afteraction.RUN_PATH: ("con_after_action", afteraction.run_layout),
    users.PATH: ("con_users", users.layout),
    quiet.PATH: ("con_quiet", quiet.layout),
    register.PATH: ("con_register", register.layout),
    "/console/incidents": ("con_incidents", incidents.list_layout),
    "/console/incident": ("con_incident", incidents.detail_layout),
    "/console/handover": ("con_handover", handover.layout),
    sla.PATH: ("con_sla", sla.layout),
    reports.PATH: ("con_reports", reports.layout),
}

__all__ = ["PAGES"]
