"""Cameras, read side: their states (``camera_state``, judged by ``agents.indicators.camera``), the
intrusion tracks of their windows, and the border page's tracks per camera and class."""

#: the wall's cameras
CAMERAS = "SELECT camera, state, since, observed, observed_since, last_seen, flapping_since, conditions FROM camera_state"

#: every camera's state, for ``camera.offline``
CAMERA_STATES = "SELECT * FROM camera_state"

#: rows for the derived ``camera.intrusions`` (``agents.alerting.derived.intrusion_values``), with
#: (now, now) as parameters: new intrusion tracks per camera in the 60 one-minute windows that
#: started within the hour before now (a rolling hour, to the minute; never the clock hour)
INTRUSION_ROWS = """
    SELECT camera, sum(tracks)::float8 AS tracks FROM camera_window
    WHERE window_s = 60 AND rule = 'FieldDetector/ObjectsInside'
      AND time > %s - interval '60 minutes' AND time <= %s
    GROUP BY camera"""

#: new tracks per camera and class (``label``) of the cameras ``border_cameras`` (codes): in the hour
#: before now, and in the same hour yesterday (from 25 to 24 hours before now)
BORDER_HOUR = """
SELECT camera, label,
       count(*) FILTER (WHERE time > now() - interval '1 hour')::bigint AS hour,
       count(*) FILTER (WHERE time <= now() - interval '24 hours')::bigint AS hour_yesterday
FROM camera_event
WHERE type = 'CameraDetection' AND phase = 'new' AND camera = ANY(%(border_cameras)s::text[])
  AND ((time > now() - interval '1 hour' AND time <= now())
       OR (time > now() - interval '25 hours' AND time <= now() - interval '24 hours'))
GROUP BY camera, label
"""

#: new tracks per camera and class of the cameras ``border_cameras`` in the 23 hours before the last
#: one (from 24 to 1 hour before now): with the last hour of ``BORDER_HOUR``, the 24 hours.  Read less
#: often than the last hour, so the 24 hours never show fewer tracks than the hour
BORDER_EARLIER = """
SELECT camera, label, count(*)::bigint AS earlier
FROM camera_event
WHERE type = 'CameraDetection' AND phase = 'new' AND camera = ANY(%(border_cameras)s::text[])
  AND time > now() - interval '24 hours' AND time <= now() - interval '1 hour'
GROUP BY camera, label
"""

#: the 12 newest tracks of the cameras ``border_cameras`` started within the hour, each with its
#: last message: best score, zones, snapshot reference, and whether it has ended
BORDER_TRACKS = """
WITH recent AS (
  SELECT camera, event_id, time AS started_at, rule, label
  FROM camera_event
  WHERE type = 'CameraDetection' AND phase = 'new' AND camera = ANY(%(border_cameras)s::text[])
    AND time > now() - interval '1 hour'
  ORDER BY time DESC
  LIMIT 12
)
SELECT r.camera, r.event_id, r.rule, r.label, r.started_at, max(e.time) AS last_seen, max(e.score) AS score,
       bool_or(e.phase = 'end') AS ended, (array_agg(e.zones ORDER BY e.time DESC))[1] AS zones,
       (array_agg(e.attrs ->> 'snapshot' ORDER BY e.time DESC) FILTER (WHERE e.attrs ? 'snapshot'))[1] AS snapshot
FROM recent r
JOIN camera_event e ON e.camera = r.camera AND e.event_id = r.event_id AND e.type = 'CameraDetection'
                   AND e.time >= r.started_at AND e.time <= r.started_at + interval '1 hour'
GROUP BY r.camera, r.event_id, r.rule, r.label, r.started_at
ORDER BY r.started_at DESC
"""

#: one track's snapshot reference and when it started, within the ``days`` snapshots are kept
#: (parameters ``camera``, ``event_id``, ``days``): the dashboard reads it, never the browser
TRACK_SNAPSHOT = """
SELECT camera, event_id, min(time) AS started_at,
       (array_agg(attrs ->> 'snapshot' ORDER BY time DESC) FILTER (WHERE attrs ? 'snapshot'))[1] AS snapshot
FROM camera_event
WHERE camera = %(camera)s AND type = 'CameraDetection' AND event_id = %(event_id)s
  AND time > now() - make_interval(days => %(days)s)
GROUP BY camera, event_id
"""

#: the usual level: new tracks per border camera (``border_cameras``) in the clock hour of 30 minutes
#: ago, in each of the 8 weeks before (``weeks_ago`` 1–8), from the hourly windows
BORDER_USUAL = """
SELECT w.camera, k.weeks_ago, sum(w.tracks)::bigint AS tracks
FROM generate_series(1, 8) AS k(weeks_ago)
JOIN camera_window w ON w.time = date_trunc('hour', now() - interval '30 minutes') - k.weeks_ago * interval '7 days'
WHERE w.window_s = 3600 AND w.camera = ANY(%(border_cameras)s::text[])
GROUP BY w.camera, k.weeks_ago
"""
