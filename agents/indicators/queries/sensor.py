"""Environment sensors, read side: each station's latest reading per metric (``sensor_latest``,
judged by ``agents.indicators.sensor_kpi``) and the rain of the last hour."""

#: the wall's latest readings
SENSORS = """
SELECT station, metric, type, value, text_value, observed_at, rise_per_h, alert_level, danger_level
FROM sensor_latest
"""

#: every latest reading, for the ``sensor.*`` alert indicators
SENSOR_LATEST = "SELECT * FROM sensor_latest"

#: millimetres of rain per station over the last hour
RAIN = """
SELECT station, sum(sum) AS mm
FROM sensor_window
WHERE metric = 'precipitation' AND window_s = 600 AND time > now() - interval '1 hour'
GROUP BY station
"""
