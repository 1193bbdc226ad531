-- 002: maintenance windows (one-off and recurring) and uptime that leaves them out.
CREATE TABLE IF NOT EXISTS maintenance_window (
  id          bigserial   PRIMARY KEY,
  system      text,                       -- NULL: every system
  starts_at   timestamptz,                -- one-off windows
  ends_at     timestamptz,
  recurrence  jsonb,                      -- weekly rule {days, start, minutes, tz}
  reason      text        NOT NULL DEFAULT '',
  created_by  text        NOT NULL DEFAULT 'system',
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK ((starts_at IS NOT NULL AND ends_at IS NOT NULL AND ends_at > starts_at) OR recurrence IS NOT NULL)
);

-- Concrete intervals: one-off windows as they are, recurring ones expanded for the days ahead.
CREATE TABLE IF NOT EXISTS maintenance_occurrence (
  window_id   bigint      NOT NULL REFERENCES maintenance_window (id) ON DELETE CASCADE,
  system      text,
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL,
  PRIMARY KEY (window_id, starts_at)
);
CREATE INDEX IF NOT EXISTS maintenance_occurrence_time ON maintenance_occurrence (starts_at, ends_at);

-- Uptime of a system over [t0, t1): probe success over 60 s windows that no maintenance touches.
CREATE OR REPLACE FUNCTION ioc_uptime(p_system text, t0 timestamptz, t1 timestamptz)
RETURNS double precision LANGUAGE sql STABLE AS $$
  SELECT sum(w.probes_ok)::double precision / nullif(sum(w.probes), 0)
  FROM health_window w
  WHERE w.system = p_system AND w.endpoint = '*' AND w.window_s = 60
    AND w.time >= t0 AND w.time < t1
    AND NOT EXISTS (
      SELECT 1 FROM maintenance_occurrence m
      WHERE (m.system IS NULL OR m.system = w.system)
        AND m.starts_at < w.time + interval '60 seconds' AND m.ends_at > w.time)
$$;
