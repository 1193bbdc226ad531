"""Service health, read side: the counters the statuses are judged from (``agents.indicators.health``,
thresholds in ``agents/indicators/data/status.yaml``), the hour of history, uptime."""

#: the counters of each system over the last ``window_s`` seconds: what the wall shows and what
#: the alert engine's health.* indicators are computed from (parameter ``window_s``)
STATUS_SQL = """
SELECT system,
       sum(probes)::bigint    AS probes,
       sum(probes_ok)::bigint AS probes_ok,
       sum(requests)::bigint  AS requests,
       sum(errors)::bigint    AS errors,
       ioc_hist_sum(latency_hist) AS latency_hist,
       max(last_event)        AS last_event,
       max(last_ok)           AS last_ok,
       max(last_failed)       AS last_failed
FROM health_window
WHERE window_s = 60 AND endpoint = '*' AND time >= now() - make_interval(secs => %(window_s)s)
GROUP BY system
"""

#: each system's 60 s windows of the last hour (the wall's history)
HISTORY = """
SELECT system, time, probes, probes_ok, requests, errors, latency_hist, last_event, last_ok, last_failed
FROM health_window
WHERE window_s = 60 AND endpoint = '*' AND time >= now() - interval '1 hour'
ORDER BY system, time
"""

#: uptime over 24 hours and 30 days, maintenance left out (parameter ``systems``: codes)
UPTIME = """
SELECT s.system,
       ioc_uptime(s.system, now() - interval '24 hours', now()) AS up_24h,
       ioc_uptime(s.system, now() - interval '30 days', now())  AS up_30d
FROM unnest(%(systems)s::text[]) AS s(system)
"""


#: the e-office's document tallies of the local month (parameter ``month_start``) per level: each
#: unit's day counts once (its greatest tally), summed over units and days
DOCUMENT_MONTH = """
SELECT level, sum(documents_sent)::bigint AS documents_sent,
       sum(documents_sent_electronic)::bigint AS documents_sent_electronic,
       sum(work_records)::bigint AS work_records, sum(work_records_online)::bigint AS work_records_online
FROM document_day
WHERE time >= %(month_start)s
GROUP BY level
"""
