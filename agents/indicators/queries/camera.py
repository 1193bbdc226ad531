"""Cameras, read side: their states (``camera_state``, judged by ``agents.indicators.camera``) and
the intrusion tracks of their windows."""

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
