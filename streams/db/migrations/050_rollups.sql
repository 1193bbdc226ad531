-- 050: hourly and daily rollups of the counter tables (agents/indicators/rollups.py), which the
-- Apache edition of TimescaleDB cannot keep as continuous aggregates.  Each row is the exact sum of
-- its source windows (60 s, or the hour windows where a family keeps them); a day is a local day
-- (Asia/Ho_Chi_Minh).  The feed writer marks what each batch touched in rollup_pending, in the same
-- transaction as its increments; the worker's rollup job recomputes those hours and days and deletes
-- the marks in one transaction, so a crash at any point loses nothing and doubles nothing.

CREATE TABLE IF NOT EXISTS rollup_pending (
  id         bigserial   PRIMARY KEY,
  family     text        NOT NULL,
  first_time timestamptz,           -- the batch's fresh events, oldest and newest event time (none: no
  last_time  timestamptz,           -- fresh event, only the source counters changed)
  arrival    timestamptz NOT NULL   -- when the batch arrived (the source counters are by arrival)
);

-- health: per system and endpoint ('*' = the whole system)
CREATE TABLE IF NOT EXISTS health_hour (
  hour timestamptz NOT NULL, system text NOT NULL, endpoint text NOT NULL,
  probes bigint NOT NULL, probes_ok bigint NOT NULL, requests bigint NOT NULL, errors bigint NOT NULL,
  latency_hist int[] NOT NULL, last_event timestamptz, last_ok timestamptz, last_failed timestamptz,
  PRIMARY KEY (system, endpoint, hour)
);
SELECT create_hypertable('health_hour', 'hour', chunk_time_interval => interval '90 days', if_not_exists => true);
CREATE TABLE IF NOT EXISTS health_day (
  day date NOT NULL, system text NOT NULL, endpoint text NOT NULL,
  probes bigint NOT NULL, probes_ok bigint NOT NULL, requests bigint NOT NULL, errors bigint NOT NULL,
  latency_hist int[] NOT NULL, last_event timestamptz, last_ok timestamptz, last_failed timestamptz,
  PRIMARY KEY (system, endpoint, day)
);

-- security: per entity, type, severity and Directive 14 layer
CREATE TABLE IF NOT EXISTS security_hour (
  hour timestamptz NOT NULL, entity text NOT NULL, type text NOT NULL, severity text NOT NULL, layer smallint NOT NULL,
  events bigint NOT NULL, blocked bigint NOT NULL, last_event timestamptz,
  PRIMARY KEY (entity, type, severity, layer, hour)
);
SELECT create_hypertable('security_hour', 'hour', chunk_time_interval => interval '90 days', if_not_exists => true);
CREATE TABLE IF NOT EXISTS security_day (
  day date NOT NULL, entity text NOT NULL, type text NOT NULL, severity text NOT NULL, layer smallint NOT NULL,
  events bigint NOT NULL, blocked bigint NOT NULL, last_event timestamptz,
  PRIMARY KEY (entity, type, severity, layer, day)
);

-- failed sign-ins per source address and target
CREATE TABLE IF NOT EXISTS auth_failure_hour (
  hour timestamptz NOT NULL, src_ip text NOT NULL, target text NOT NULL,
  failures bigint NOT NULL, locked bigint NOT NULL, last_event timestamptz,
  PRIMARY KEY (src_ip, target, hour)
);
SELECT create_hypertable('auth_failure_hour', 'hour', chunk_time_interval => interval '90 days', if_not_exists => true);
CREATE TABLE IF NOT EXISTS auth_failure_day (
  day date NOT NULL, src_ip text NOT NULL, target text NOT NULL,
  failures bigint NOT NULL, locked bigint NOT NULL, last_event timestamptz,
  PRIMARY KEY (src_ip, target, day)
);

-- cameras and border zones: camera_window keeps hour windows itself (window_s 3600); days here
CREATE TABLE IF NOT EXISTS camera_day (
  day date NOT NULL, camera text NOT NULL, zone text NOT NULL, rule text NOT NULL,
  tracks bigint NOT NULL, last_event timestamptz,
  PRIMARY KEY (camera, zone, rule, day)
);

-- sensors: sensor_window keeps hour windows itself (window_s 3600); days here
CREATE TABLE IF NOT EXISTS sensor_day (
  day date NOT NULL, station text NOT NULL, metric text NOT NULL,
  n bigint NOT NULL, sum double precision NOT NULL, max double precision, last_event timestamptz,
  min double precision,
  PRIMARY KEY (station, metric, day)
);

-- network links
CREATE TABLE IF NOT EXISTS network_hour (
  hour timestamptz NOT NULL, link text NOT NULL,
  polls bigint NOT NULL, polls_up bigint NOT NULL, loss_sum double precision NOT NULL, loss_n bigint NOT NULL,
  latency_sum double precision NOT NULL, latency_n bigint NOT NULL, utilisation_max double precision,
  last_event timestamptz,
  PRIMARY KEY (link, hour)
);
SELECT create_hypertable('network_hour', 'hour', chunk_time_interval => interval '90 days', if_not_exists => true);
CREATE TABLE IF NOT EXISTS network_day (
  day date NOT NULL, link text NOT NULL,
  polls bigint NOT NULL, polls_up bigint NOT NULL, loss_sum double precision NOT NULL, loss_n bigint NOT NULL,
  latency_sum double precision NOT NULL, latency_n bigint NOT NULL, utilisation_max double precision,
  last_event timestamptz,
  PRIMARY KEY (link, day)
);

-- the sources themselves (by arrival time, as source_window)
CREATE TABLE IF NOT EXISTS source_hour (
  hour timestamptz NOT NULL, source text NOT NULL,
  received bigint NOT NULL, accepted bigint NOT NULL, duplicates bigint NOT NULL, rejected bigint NOT NULL,
  last_event timestamptz, last_arrival timestamptz,
  PRIMARY KEY (source, hour)
);
SELECT create_hypertable('source_hour', 'hour', chunk_time_interval => interval '90 days', if_not_exists => true);
CREATE TABLE IF NOT EXISTS source_day (
  day date NOT NULL, source text NOT NULL,
  received bigint NOT NULL, accepted bigint NOT NULL, duplicates bigint NOT NULL, rejected bigint NOT NULL,
  last_event timestamptz, last_arrival timestamptz,
  PRIMARY KEY (source, day)
);
CREATE INDEX IF NOT EXISTS health_day_recent ON health_day (day DESC);
CREATE INDEX IF NOT EXISTS security_day_recent ON security_day (day DESC);
CREATE INDEX IF NOT EXISTS source_day_recent ON source_day (day DESC);
