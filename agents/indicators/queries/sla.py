"""Service levels, read side: what ``agents.indicators.sla`` counts a calendar month from
(parameters ``since``, ``until``: the month's instants; ``systems``: codes; ``rules``: the outage rules)."""

#: each system's whole-system 60 s windows of the month
MINUTES = """
SELECT system, time, probes, probes_ok
FROM health_window
WHERE window_s = 60 AND endpoint = '*' AND system = ANY(%(systems)s) AND time >= %(since)s AND time < %(until)s
"""

#: maintenance intervals touching the month; ``system`` NULL is every system
MAINTENANCE = """
SELECT system, starts_at, ends_at
FROM maintenance_occurrence
WHERE starts_at < %(until)s AND ends_at > %(since)s
"""

#: alerts of the outage rules on the systems that were open at some time of the month
ALERTS = """
SELECT id, entity, started_at, resolved_at
FROM alert
WHERE rule = ANY(%(rules)s) AND entity = ANY(%(systems)s) AND state <> 'cancelled'
  AND started_at < %(until)s AND (resolved_at IS NULL OR resolved_at > %(since)s)
"""
