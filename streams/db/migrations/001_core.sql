-- 001: TimescaleDB, histogram functions, the information-system health feed and source stats.
CREATE EXTENSION IF NOT EXISTS timescaledb;

-- Latency histograms: fixed log-scale buckets, ratio 1.1, 120 buckets (agents/sketch.py).
CREATE OR REPLACE FUNCTION ioc_hist_add(a int[], b int[]) RETURNS int[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN a IS NULL THEN b
    WHEN b IS NULL THEN a
    ELSE ARRAY(
      SELECT coalesce(a[i], 0) + coalesce(b[i], 0)
      FROM generate_series(1, greatest(cardinality(a), cardinality(b))) AS i
      ORDER BY i)
  END
$$;

CREATE OR REPLACE AGGREGATE ioc_hist_sum(int[]) (sfunc = ioc_hist_add, stype = int[]);

CREATE OR REPLACE FUNCTION ioc_hist_quantile(h int[], q double precision) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  total bigint := 0;
  rank bigint;
  seen bigint := 0;
  k int;
BEGIN
  IF h IS NULL THEN RETURN NULL; END IF;
  SELECT coalesce(sum(x), 0) INTO total FROM unnest(h) AS x;
  IF total = 0 THEN RETURN NULL; END IF;
  rank := greatest(1, ceil(q * total)::bigint);
  FOR k IN 1 .. cardinality(h) LOOP
    seen := seen + h[k];
    IF seen >= rank THEN
      -- array index k holds bucket k-1
      IF k = 1 THEN RETURN 0.5; END IF;
      RETURN power(1.1, (k - 1) - 0.5);
    END IF;
  END LOOP;
  RETURN power(1.1, cardinality(h) - 1 - 0.5);
END
$$;

-- Raw information-system events: probes and request logs.  (time, id) de-duplicates replays.
CREATE TABLE IF NOT EXISTS health_event (
  time        timestamptz NOT NULL,
  id          text        NOT NULL,
  kind        text        NOT NULL CHECK (kind IN ('probe', 'request')),
  system      text        NOT NULL,
  endpoint    text        NOT NULL,
  success     boolean,
  status_code smallint,
  latency_ms  double precision NOT NULL,
  method      text,
  client_ip   inet,
  error       text,
  PRIMARY KEY (id, time)
);
SELECT create_hypertable('health_event', 'time', chunk_time_interval => interval '1 day', if_not_exists => true);
CREATE INDEX IF NOT EXISTS health_event_system_time ON health_event (system, time DESC);

-- Window increments per system and endpoint ('*' = the whole system), 10 s and 60 s.
CREATE TABLE IF NOT EXISTS health_window (
  time         timestamptz NOT NULL,
  window_s     integer     NOT NULL,
  system       text        NOT NULL,
  endpoint     text        NOT NULL,
  probes       bigint      NOT NULL DEFAULT 0,
  probes_ok    bigint      NOT NULL DEFAULT 0,
  requests     bigint      NOT NULL DEFAULT 0,
  errors       bigint      NOT NULL DEFAULT 0,
  latency_hist int[]       NOT NULL,
  last_event   timestamptz,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (system, endpoint, window_s, time)
);
SELECT create_hypertable('health_window', 'time', chunk_time_interval => interval '7 days', if_not_exists => true);
CREATE INDEX IF NOT EXISTS health_window_recent ON health_window (window_s, endpoint, time DESC);

-- Every source itself: what arrived, what was rejected, how fresh.  10 s increments.
CREATE TABLE IF NOT EXISTS source_window (
  time         timestamptz NOT NULL,
  source       text        NOT NULL,
  received     bigint      NOT NULL DEFAULT 0,
  accepted     bigint      NOT NULL DEFAULT 0,
  duplicates   bigint      NOT NULL DEFAULT 0,
  rejected     bigint      NOT NULL DEFAULT 0,
  last_event   timestamptz,
  last_arrival timestamptz,
  PRIMARY KEY (source, time)
);
SELECT create_hypertable('source_window', 'time', chunk_time_interval => interval '7 days', if_not_exists => true);

-- Workers announce themselves; the wall tells a stopped pipeline from a quiet one.
CREATE TABLE IF NOT EXISTS worker_heartbeat (
  worker      text        PRIMARY KEY,
  started_at  timestamptz NOT NULL,
  last_seen   timestamptz NOT NULL,
  info        jsonb       NOT NULL DEFAULT '{}'::jsonb
);
