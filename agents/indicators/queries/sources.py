"""Feed sources, read side: each source's own counters (``source_window``), for the wall and the
``source.*`` alert indicators."""

#: per source: counts of the last 5 minutes, newest event and arrival, and the rate it usually has
SOURCES = """
SELECT source,
       coalesce(sum(received)   FILTER (WHERE time >= now() - interval '5 minutes'), 0)::bigint AS received,
       coalesce(sum(accepted)   FILTER (WHERE time >= now() - interval '5 minutes'), 0)::bigint AS accepted,
       coalesce(sum(rejected)   FILTER (WHERE time >= now() - interval '5 minutes'), 0)::bigint AS rejected,
       coalesce(sum(duplicates) FILTER (WHERE time >= now() - interval '5 minutes'), 0)::bigint AS duplicates,
       max(last_event)   AS last_event,
       max(last_arrival) AS last_arrival,
       CASE WHEN min(time) FILTER (WHERE time < now() - interval '10 minutes') <= now() - interval '70 minutes'
            THEN (sum(received) FILTER (WHERE time < now() - interval '10 minutes'))::float8
                 / extract(epoch FROM (now() - interval '10 minutes'
                                       - min(time) FILTER (WHERE time < now() - interval '10 minutes')))
       END AS expected_per_s
FROM source_window
WHERE time >= now() - interval '24 hours'
GROUP BY source
"""

#: ``source.age_s``: seconds since each source's newest arrival (rows: source, value)
AGE_S = """
        SELECT source, extract(epoch FROM now() - max(last_arrival))::float8 FROM source_window
        WHERE time >= now() - interval '1 day' GROUP BY source"""

#: ``source.rejected_share``: rejected / received over the last 5 minutes (rows: source, value)
REJECTED_SHARE = """
        SELECT source, sum(rejected)::float8 / nullif(sum(received), 0) FROM source_window
        WHERE time >= now() - interval '5 minutes' GROUP BY source"""

#: per producer (``producer_window``, 10-minute windows) seen in the last day: what it sent in the last
#: hour (the windows begun in it) and what became of it, what it sent in the last complete hour, its
#: newest event and arrival (``agents.indicators.producers.producer_healths``)
PRODUCER_RECENT = """
SELECT family, producer,
       coalesce(sum(received)   FILTER (WHERE time > now() - interval '1 hour'), 0)::bigint AS received,
       coalesce(sum(accepted)   FILTER (WHERE time > now() - interval '1 hour'), 0)::bigint AS accepted,
       coalesce(sum(duplicates) FILTER (WHERE time > now() - interval '1 hour'), 0)::bigint AS duplicates,
       coalesce(sum(invalid)    FILTER (WHERE time > now() - interval '1 hour'), 0)::bigint AS invalid,
       coalesce(sum(late)       FILTER (WHERE time > now() - interval '1 hour'), 0)::bigint AS late,
       coalesce(sum(dropped)    FILTER (WHERE time > now() - interval '1 hour'), 0)::bigint AS dropped,
       coalesce(sum(received)   FILTER (WHERE time >= date_trunc('hour', now()) - interval '1 hour'
                                          AND time < date_trunc('hour', now())), 0)::bigint AS received_last,
       max(last_event) AS last_event, max(last_arrival) AS last_arrival
FROM producer_window
WHERE time >= now() - interval '1 day'
GROUP BY family, producer
"""

#: per producer, what it sent in the current hour and the one before in each of the last 8 weeks (the
#: same hours of the week, from which its expected rate is learned), its newest arrival in them, and
#: ``since``: the oldest counter row (weeks before it are not history); one row with only ``since``
#: when there is no history yet
PRODUCER_HISTORY = """
WITH since AS (SELECT min(time) AS since FROM producer_window)
SELECT w.family, w.producer, date_trunc('hour', w.time) AS hour, sum(w.received)::bigint AS received,
       max(w.last_arrival) AS last_arrival, (SELECT since FROM since) AS since
FROM generate_series(1, 8) AS k
JOIN producer_window w
  ON w.time >= date_trunc('hour', now()) - k * interval '1 week' - interval '1 hour'
 AND w.time <  date_trunc('hour', now()) - k * interval '1 week' + interval '1 hour'
GROUP BY 1, 2, 3
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, since FROM since
"""
