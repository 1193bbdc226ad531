-- 003: security events, findings; camera events, debounced camera state.
CREATE TABLE IF NOT EXISTS security_event (
  time      timestamptz NOT NULL,
  id        text        NOT NULL,
  type      text        NOT NULL,
  system    text,
  device    text,
  src_ip    inet,
  src_port  integer,
  dst_ip    inet,
  dst_port  integer,
  protocol  text,
  action    text        NOT NULL,
  rule      text,
  severity  text        NOT NULL,
  layer     smallint,
  attrs     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (id, time)
);
SELECT create_hypertable('security_event', 'time', chunk_time_interval => interval '1 day', if_not_exists => true);
CREATE INDEX IF NOT EXISTS security_event_src ON security_event (src_ip, time DESC);
CREATE INDEX IF NOT EXISTS security_event_type ON security_event (type, time DESC);

-- Events per target (system, else device), type, severity and layer (0 = not known), per minute.
CREATE TABLE IF NOT EXISTS security_window (
  time      timestamptz NOT NULL,
  window_s  integer     NOT NULL,
  entity    text        NOT NULL,
  type      text        NOT NULL,
  severity  text        NOT NULL,
  layer     smallint    NOT NULL,
  events    bigint      NOT NULL DEFAULT 0,
  blocked   bigint      NOT NULL DEFAULT 0,
  last_event timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (entity, type, severity, layer, window_s, time)
);
SELECT create_hypertable('security_window', 'time', chunk_time_interval => interval '7 days', if_not_exists => true);

-- Failed logins per source and target, per minute: brute force is read from here.
CREATE TABLE IF NOT EXISTS auth_failure_window (
  time       timestamptz NOT NULL,
  src_ip     text        NOT NULL,
  target     text        NOT NULL,
  failures   bigint      NOT NULL DEFAULT 0,
  locked     bigint      NOT NULL DEFAULT 0,
  last_event timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (src_ip, target, time)
);
SELECT create_hypertable('auth_failure_window', 'time', chunk_time_interval => interval '7 days', if_not_exists => true);
CREATE INDEX IF NOT EXISTS auth_failure_recent ON auth_failure_window (time DESC);

-- Findings of the detectors (brute force, request spikes, port scans, malware), per 5-minute bucket.
CREATE TABLE IF NOT EXISTS security_finding (
  time       timestamptz NOT NULL,
  kind       text        NOT NULL,
  subject    text        NOT NULL,
  target     text        NOT NULL,
  severity   text        NOT NULL,
  layer      smallint    NOT NULL,
  value      double precision NOT NULL,
  threshold  double precision NOT NULL,
  detail     text        NOT NULL DEFAULT '',
  first_seen timestamptz NOT NULL,
  last_seen  timestamptz NOT NULL,
  PRIMARY KEY (kind, subject, target, time)
);
SELECT create_hypertable('security_finding', 'time', chunk_time_interval => interval '30 days', if_not_exists => true);

CREATE TABLE IF NOT EXISTS camera_event (
  time      timestamptz NOT NULL,
  id        text        NOT NULL,
  type      text        NOT NULL,
  camera    text        NOT NULL,
  event_id  text,
  phase     text,
  rule      text,
  label     text,
  score     real,
  zones     jsonb,
  condition text,
  active    boolean,
  attrs     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (id, time)
);
SELECT create_hypertable('camera_event', 'time', chunk_time_interval => interval '1 day', if_not_exists => true);
CREATE INDEX IF NOT EXISTS camera_event_camera ON camera_event (camera, time DESC);

-- New tracks per camera, zone ('-' when none) and rule, per minute and per hour.
CREATE TABLE IF NOT EXISTS camera_window (
  time       timestamptz NOT NULL,
  window_s   integer     NOT NULL,
  camera     text        NOT NULL,
  zone       text        NOT NULL,
  rule       text        NOT NULL,
  tracks     bigint      NOT NULL DEFAULT 0,
  last_event timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (camera, zone, rule, window_s, time)
);
SELECT create_hypertable('camera_window', 'time', chunk_time_interval => interval '7 days', if_not_exists => true);

-- Debounced state per camera (agents/camera.py); written in the same transaction as its events.
CREATE TABLE IF NOT EXISTS camera_state (
  camera          text PRIMARY KEY,
  state           text        NOT NULL,
  since           timestamptz,
  observed        text,
  observed_since  timestamptz,
  transitions     jsonb       NOT NULL DEFAULT '[]'::jsonb,
  flapping_since  timestamptz,
  last_seen       timestamptz,
  conditions      jsonb       NOT NULL DEFAULT '[]'::jsonb,
  changes         bigint      NOT NULL DEFAULT 0,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
