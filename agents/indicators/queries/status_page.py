"""The public status page, read side (``agents.indicators.status_page``).  Parameters: ``systems``
(codes), ``since`` (the first local midnight shown), ``until`` (now), ``ahead`` (how far planned
maintenance is shown), ``tz`` (the local zone's name), ``down_below`` (the share of probes under
which a minute is down), ``rules`` (the outage rules)."""

#: minutes up and down per system and local day, as the service levels count them: a minute with
#: probes is down when fewer than ``down_below`` of them succeeded; minutes under maintenance are
#: left out
DAYS = """
SELECT w.system, (w.time AT TIME ZONE %(tz)s)::date AS day,
       count(*) FILTER (WHERE w.probes_ok >= %(down_below)s * w.probes) AS up,
       count(*) FILTER (WHERE w.probes_ok < %(down_below)s * w.probes) AS down
FROM health_window w
WHERE w.window_s = 60 AND w.endpoint = '*' AND w.system = ANY(%(systems)s)
  AND w.time >= %(since)s AND w.time < %(until)s AND w.probes > 0
  AND NOT EXISTS (
    SELECT 1 FROM maintenance_occurrence m
    WHERE (m.system IS NULL OR m.system = w.system)
      AND m.starts_at < w.time + interval '60 seconds' AND m.ends_at > w.time)
GROUP BY 1, 2
"""

#: maintenance windows touching the days shown or planned ahead; ``system`` NULL is every system
MAINTENANCE = """
SELECT DISTINCT system, starts_at, ends_at
FROM maintenance_occurrence
WHERE starts_at < %(ahead)s AND ends_at > %(since)s AND (system IS NULL OR system = ANY(%(systems)s))
"""

#: outages: alerts of the outage rules that fired (not the pending ones, not drills, not cancelled)
OUTAGES = """
SELECT entity, started_at, resolved_at
FROM alert
WHERE rule = ANY(%(rules)s) AND entity = ANY(%(systems)s) AND state IN ('firing', 'resolved')
  AND fired_at IS NOT NULL AND drill IS NULL AND drill_run IS NULL
  AND (resolved_at IS NULL OR resolved_at > %(since)s)
"""
