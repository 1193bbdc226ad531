-- 036: the network family (streams/core/families.py, agents/indicators/network.py): polls of the
-- province's links and IPv6 checks of its systems, per-link windows, the latest state of each.
CREATE TABLE IF NOT EXISTS network_event (
  time        timestamptz NOT NULL,
  id          text        NOT NULL,
  type        text        NOT NULL,
  entity      text        NOT NULL,
  up          boolean,
  utilisation double precision,
  packet_loss double precision,
  latency_ms  double precision,
  attrs       jsonb       NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (id, time)
);
SELECT create_hypertable('network_event', 'time', chunk_time_interval => interval '1 day', if_not_exists => true);
CREATE INDEX IF NOT EXISTS network_event_entity ON network_event (entity, time DESC);

-- Polls per link and minute: availability is polls_up / polls, loss and latency are sums over counts.
CREATE TABLE IF NOT EXISTS network_window (
  time            timestamptz NOT NULL,
  window_s        integer     NOT NULL,
  link            text        NOT NULL,
  polls           bigint      NOT NULL DEFAULT 0,
  polls_up        bigint      NOT NULL DEFAULT 0,
  loss_sum        double precision NOT NULL DEFAULT 0,
  loss_n          bigint      NOT NULL DEFAULT 0,
  latency_sum     double precision NOT NULL DEFAULT 0,
  latency_n       bigint      NOT NULL DEFAULT 0,
  utilisation_max double precision,
  last_event      timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (link, window_s, time)
);
SELECT create_hypertable('network_window', 'time', chunk_time_interval => interval '7 days', if_not_exists => true);

-- The latest state of each link (kind 'link') and of each system's IPv6 readiness (kind 'system').
CREATE TABLE IF NOT EXISTS network_state (
  entity      text PRIMARY KEY,
  kind        text NOT NULL,
  up          boolean,
  since       timestamptz,
  utilisation double precision,
  packet_loss double precision,
  latency_ms  double precision,
  reason      text,
  aaaa        boolean,
  reachable   boolean,
  last_seen   timestamptz,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
