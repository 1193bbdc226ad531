"""Citizen reports, read side: the open reports (``citizen_report``) and the agencies' service of
the month (``citizen_agency_day``), judged by ``agents.indicators.citizen_kpi``."""

#: the wall's open reports, newest first
CITIZEN_OPEN = """
SELECT report_id, category, unit_code, lon, lat, agency, deadline, reported_at, responded_at, status
FROM citizen_report
WHERE status <> 'closed'
ORDER BY reported_at DESC
LIMIT 5000
"""

#: per agency since the start of the local month (parameter ``month_start``)
CITIZEN_SERVICE = """
SELECT agency, sum(responded)::bigint AS responded, sum(responded_late)::bigint AS responded_late,
       sum(ratings)::bigint AS ratings, sum(rating_sum)::bigint AS rating_sum, sum(satisfied)::bigint AS satisfied,
       ioc_hist_sum(response_minutes_hist) AS response_minutes_hist
FROM citizen_agency_day
WHERE time >= %(month_start)s
GROUP BY agency
"""

#: every report not closed, for the ``citizen.*`` indicators
REPORTS_NOT_CLOSED = "SELECT * FROM citizen_report WHERE status <> 'closed'"
