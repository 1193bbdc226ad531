"""Administrative dossiers, read side: the daily counts (``dossier_day``) and the dossiers in
progress (``dossier_state``) the KPIs of ``agents.indicators.dossier_kpi`` are computed from."""

#: the counts of ``dossier_day`` per day, unit and level (add the WHERE and the GROUP BY)
day_sums = """
SELECT time, unit_code, level,
       sum(received)::bigint AS received, sum(carried_over)::bigint AS carried_over,
       sum(resolved_early)::bigint AS resolved_early, sum(resolved_on_time)::bigint AS resolved_on_time,
       sum(resolved_late)::bigint AS resolved_late, sum(returned)::bigint AS returned,
       sum(withdrawn)::bigint AS withdrawn, sum(digitised)::bigint AS digitised,
       sum(results_digitised)::bigint AS results_digitised, sum(online)::bigint AS online,
       sum(full_process)::bigint AS full_process,
       coalesce(sum(received) FILTER (WHERE online_kind = 'full_process'), 0)::bigint AS full_process_received,
       sum(auth_reported)::bigint AS auth_reported, sum(auth_vneid)::bigint AS auth_vneid
FROM dossier_day
"""

#: counts per day, unit and level since the start of the local month (parameter ``month_start``)
DOSSIER_DAYS = day_sums + "WHERE time >= %(month_start)s GROUP BY time, unit_code, level\n"

#: the wall's dossiers in progress
DOSSIER_OPEN = """
SELECT unit_code, level, received_date, due_date, status
FROM dossier_state
WHERE status = 'in_progress'
"""

#: the daily rows of the last 32 days (a month whatever today is), for the ``dossier.*`` indicators
DOSSIER_RECENT_DAYS = "SELECT * FROM dossier_day WHERE time >= now() - interval '32 days'"

#: every dossier in progress, for the ``dossier.*`` indicators
DOSSIERS_IN_PROGRESS = "SELECT * FROM dossier_state WHERE status = 'in_progress'"
