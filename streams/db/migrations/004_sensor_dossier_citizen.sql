-- 004: sensor observations, latest readings and windows; public-service dossiers; citizen field reports.

-- Sensors ----------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS sensor_observation (
  time     timestamptz NOT NULL,
  id       text        NOT NULL,
  type     text        NOT NULL,
  station  text        NOT NULL,
  area     text,
  lon      double precision NOT NULL,
  lat      double precision NOT NULL,
  "values" jsonb       NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (id, time)
);
SELECT create_hypertable('sensor_observation', 'time', chunk_time_interval => interval '1 day', if_not_exists => true);
CREATE INDEX IF NOT EXISTS sensor_observation_station ON sensor_observation (station, time DESC);

-- Readings per station and metric, per 10 minutes and per hour (precipitation: sum = rainfall).
CREATE TABLE IF NOT EXISTS sensor_window (
  time       timestamptz NOT NULL,
  window_s   integer     NOT NULL,
  station    text        NOT NULL,
  metric     text        NOT NULL,
  n          bigint      NOT NULL DEFAULT 0,
  sum        double precision NOT NULL DEFAULT 0,
  min        double precision,
  max        double precision,
  last_event timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (station, metric, window_s, time)
);
SELECT create_hypertable('sensor_window', 'time', chunk_time_interval => interval '7 days', if_not_exists => true);
CREATE INDEX IF NOT EXISTS sensor_window_recent ON sensor_window (window_s, metric, time DESC);

-- Latest reading per station and metric, with the one before it and the smoothed rise (agents/sensor.py).
CREATE TABLE IF NOT EXISTS sensor_latest (
  station          text NOT NULL,
  metric           text NOT NULL,
  type             text NOT NULL,
  area             text,
  lon              double precision,
  lat              double precision,
  value            double precision,
  text_value       text,
  observed_at      timestamptz NOT NULL,
  prev_value       double precision,
  prev_observed_at timestamptz,
  rise_per_h       double precision,
  alert_level      double precision,
  danger_level     double precision,
  PRIMARY KEY (station, metric)
);

-- Public-service dossiers ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS dossier_event (
  time             timestamptz NOT NULL,
  id               text        NOT NULL,
  type             text        NOT NULL,
  dossier_id       text        NOT NULL,
  procedure_code   text        NOT NULL,
  unit_code        text        NOT NULL,
  level            text        NOT NULL,
  channel          text        NOT NULL,
  online_kind      text,
  received_date    timestamptz NOT NULL,
  due_date         timestamptz NOT NULL,
  digitised        boolean     NOT NULL,
  resolved_date    timestamptz,
  outcome          text,
  result_digitised boolean,
  attrs            jsonb       NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (id, time)
);
SELECT create_hypertable('dossier_event', 'time', chunk_time_interval => interval '7 days', if_not_exists => true);
CREATE INDEX IF NOT EXISTS dossier_event_dossier ON dossier_event (dossier_id, time DESC);

-- Counts per local day (Asia/Ho_Chi_Minh midnight, as its UTC instant), unit, level, channel and
-- online kind ('-' when not online).
CREATE TABLE IF NOT EXISTS dossier_day (
  time              timestamptz NOT NULL,
  unit_code         text        NOT NULL,
  level             text        NOT NULL,
  channel           text        NOT NULL,
  online_kind       text        NOT NULL,
  received          bigint      NOT NULL DEFAULT 0,
  carried_over      bigint      NOT NULL DEFAULT 0,
  resolved_early    bigint      NOT NULL DEFAULT 0,
  resolved_on_time  bigint      NOT NULL DEFAULT 0,
  resolved_late     bigint      NOT NULL DEFAULT 0,
  returned          bigint      NOT NULL DEFAULT 0,
  withdrawn         bigint      NOT NULL DEFAULT 0,
  digitised         bigint      NOT NULL DEFAULT 0,
  results_digitised bigint      NOT NULL DEFAULT 0,
  online            bigint      NOT NULL DEFAULT 0,
  full_process      bigint      NOT NULL DEFAULT 0,
  last_event        timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (unit_code, level, channel, online_kind, time)
);
SELECT create_hypertable('dossier_day', 'time', chunk_time_interval => interval '90 days', if_not_exists => true);
CREATE INDEX IF NOT EXISTS dossier_day_recent ON dossier_day (time DESC);

-- One row per dossier (agents/dossier.py); written in the same transaction as its events.
CREATE TABLE IF NOT EXISTS dossier_state (
  dossier_id       text PRIMARY KEY,
  procedure_code   text        NOT NULL,
  unit_code        text        NOT NULL,
  level            text        NOT NULL,
  channel          text        NOT NULL,
  online_kind      text,
  received_date    timestamptz NOT NULL,
  due_date         timestamptz NOT NULL,
  digitised        boolean     NOT NULL DEFAULT false,
  result_digitised boolean     NOT NULL DEFAULT false,
  status           text        NOT NULL CHECK (status IN ('in_progress', 'resolved', 'returned', 'withdrawn')),
  resolved_date    timestamptz,
  outcome          text,
  closed_at        timestamptz,
  origin           text        NOT NULL CHECK (origin IN ('received', 'carried_over')),
  carried_day      timestamptz,
  last_event       timestamptz
);
CREATE INDEX IF NOT EXISTS dossier_state_open ON dossier_state (unit_code, due_date) WHERE status = 'in_progress';

-- Citizen field reports --------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS citizen_event (
  time        timestamptz NOT NULL,
  id          text        NOT NULL,
  type        text        NOT NULL,
  report_id   text        NOT NULL,
  category    text        NOT NULL,
  unit_code   text        NOT NULL,
  agency      text,
  reported_at timestamptz NOT NULL,
  deadline    timestamptz,
  rating      smallint,
  resolution  text,
  lon         double precision,
  lat         double precision,
  attrs       jsonb       NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (id, time)
);
SELECT create_hypertable('citizen_event', 'time', chunk_time_interval => interval '7 days', if_not_exists => true);
CREATE INDEX IF NOT EXISTS citizen_event_report ON citizen_event (report_id, time DESC);

-- Reports received per local day, category and unit.
CREATE TABLE IF NOT EXISTS citizen_day (
  time       timestamptz NOT NULL,
  category   text        NOT NULL,
  unit_code  text        NOT NULL,
  received   bigint      NOT NULL DEFAULT 0,
  last_event timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (category, unit_code, time)
);
SELECT create_hypertable('citizen_day', 'time', chunk_time_interval => interval '90 days', if_not_exists => true);

-- Per local day and agency ('-' when unknown): responses, response time in minutes (log histogram,
-- agents/sketch.py; quantiles with ioc_hist_quantile), first ratings.
CREATE TABLE IF NOT EXISTS citizen_agency_day (
  time                  timestamptz NOT NULL,
  agency                text        NOT NULL,
  responded             bigint      NOT NULL DEFAULT 0,
  responded_late        bigint      NOT NULL DEFAULT 0,
  ratings               bigint      NOT NULL DEFAULT 0,
  rating_sum            bigint      NOT NULL DEFAULT 0,
  satisfied             bigint      NOT NULL DEFAULT 0,
  response_minutes_hist int[]       NOT NULL,
  last_event            timestamptz,
  updated_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (agency, time)
);
SELECT create_hypertable('citizen_agency_day', 'time', chunk_time_interval => interval '90 days', if_not_exists => true);

-- One row per report (agents/citizen.py).
CREATE TABLE IF NOT EXISTS citizen_report (
  report_id    text PRIMARY KEY,
  category     text        NOT NULL,
  unit_code    text        NOT NULL,
  lon          double precision,
  lat          double precision,
  channel      text,
  agency       text,
  deadline     timestamptz,
  reported_at  timestamptz NOT NULL,
  assigned_at  timestamptz,
  responded_at timestamptz,
  rating       smallint,
  rated_at     timestamptz,
  status       text        NOT NULL CHECK (status IN ('new', 'assigned', 'responded', 'closed')),
  resolution   text,
  closed_at    timestamptz,
  last_event   timestamptz
);
CREATE INDEX IF NOT EXISTS citizen_report_open ON citizen_report (agency, deadline) WHERE status <> 'closed';
