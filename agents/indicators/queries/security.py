"""Security, read side: events, failed logins and the detectors' findings, for the wall and the
``security.*`` alert indicators.  (The detectors' own reads, at a given time, are the worker's:
``agents.worker.detectors``.)"""

#: security events per minute and severity over the last hour
ATTACK_RATE = """
SELECT time, severity, sum(events)::bigint AS events, sum(blocked)::bigint AS blocked
FROM security_window
WHERE window_s = 60 AND time >= now() - interval '1 hour'
GROUP BY time, severity
ORDER BY time
"""

# one finding is one (kind, subject, target): its 5-minute rows are counted once per severity reached;
# per target, so the wall can weigh the severity by the target's security level (the register)
FINDING_COUNTS = """
SELECT severity, layer, target, count(DISTINCT (kind, subject))::bigint AS n
FROM security_finding
WHERE last_seen >= now() - interval '24 hours'
GROUP BY severity, layer, target
"""

# repeated findings of the same kind, subject and target are one row: how many 5-minute rows,
# first and last seen, the worst severity and the largest value
FINDINGS = """
SELECT kind, subject, target,
       (ARRAY['critical', 'high', 'medium', 'low', 'informational'])[min(array_position(
         ARRAY['critical', 'high', 'medium', 'low', 'informational'], severity))] AS severity,
       max(layer) AS layer, max(value) AS value, max(threshold) AS threshold,
       (array_agg(detail ORDER BY last_seen DESC))[1] AS detail,
       min(first_seen) AS first_seen, max(last_seen) AS last_seen, count(*)::bigint AS count
FROM security_finding
WHERE last_seen >= now() - interval '24 hours'
GROUP BY kind, subject, target
ORDER BY min(array_position(ARRAY['critical', 'high', 'medium', 'low', 'informational'], severity)), last_seen DESC
LIMIT 50
"""

#: the ten sources with the most failed logins in the last hour, with their findings of the day
TOP_SOURCES = """
SELECT a.*, (SELECT count(DISTINCT (f.kind, f.target)) FROM security_finding f
             WHERE f.subject = a.src_ip AND f.last_seen >= now() - interval '24 hours') AS findings
FROM (SELECT src_ip, sum(failures)::bigint AS failures, count(DISTINCT target) AS targets,
             max(last_event) AS last_event
      FROM auth_failure_window
      WHERE time >= now() - interval '1 hour'
      GROUP BY src_ip
      ORDER BY failures DESC
      LIMIT 10) a
ORDER BY a.failures DESC
"""

#: ``security.auth_failures``: failed logins per source over the last 5 minutes (rows: src_ip, value)
AUTH_FAILURES = """
        SELECT src_ip, sum(failures)::float8 FROM auth_failure_window
        WHERE time >= now() - interval '5 minutes' GROUP BY src_ip"""

#: ``security.findings_critical`` (``agents.alerting.derived.critical_finding_values``): findings per
#: target and detected severity seen in the last 15 minutes, with the target's security level when it
#: is a system of the register (its severity is weighted by level before "critical" is counted)
FINDINGS_RECENT = """
        SELECT f.target, f.severity, count(*)::float8 AS n, r.level
        FROM security_finding f
        LEFT JOIN security_register r ON r.system = f.target AND r.valid_to IS NULL
        WHERE f.last_seen >= now() - interval '15 minutes' GROUP BY f.target, f.severity, r.level"""
