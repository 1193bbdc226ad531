-- 010: alert lifecycle, audit, evaluator state, notification outbox.

-- One row per alert instance: a rule breached by an entity, from pending to resolved.
CREATE TABLE IF NOT EXISTS alert (
  id               bigserial   PRIMARY KEY,
  rule             text        NOT NULL,
  entity           text        NOT NULL,
  severity         text        NOT NULL,
  state            text        NOT NULL CHECK (state IN ('pending', 'firing', 'resolved', 'cancelled')),
  started_at       timestamptz NOT NULL,
  fired_at         timestamptz,
  resolved_at      timestamptz,
  value            double precision,
  summary_vi       text        NOT NULL DEFAULT '',
  summary_en       text        NOT NULL DEFAULT '',
  labels           jsonb       NOT NULL DEFAULT '{}'::jsonb,
  runbook          text        NOT NULL DEFAULT '',
  flapping         boolean     NOT NULL DEFAULT false,
  acknowledged_by  text,
  acknowledged_at  timestamptz,
  assigned_to      text,
  silenced_until   timestamptz,
  silence_until_resolved boolean NOT NULL DEFAULT false,
  suppressed_by    bigint      REFERENCES alert (id),
  escalation_level integer     NOT NULL DEFAULT 0,
  escalated_at     timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS alert_open ON alert (rule, entity) WHERE state IN ('pending', 'firing');
CREATE INDEX IF NOT EXISTS alert_recent ON alert (started_at DESC);

-- Every transition and every operator action, with who did it.
CREATE TABLE IF NOT EXISTS alert_event (
  id        bigserial   PRIMARY KEY,
  alert_id  bigint      NOT NULL REFERENCES alert (id) ON DELETE CASCADE,
  at        timestamptz NOT NULL DEFAULT now(),
  kind      text        NOT NULL,
  actor     text        NOT NULL DEFAULT 'system',
  detail    jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS alert_event_alert ON alert_event (alert_id, at);

-- The evaluator's state machine per (rule, entity), so a restart continues where it was.
CREATE TABLE IF NOT EXISTS alert_rule_state (
  rule         text NOT NULL,
  entity       text NOT NULL,
  state        text NOT NULL,
  since        timestamptz,
  breach_since timestamptz,
  clear_since  timestamptz,
  value        double precision,
  flapping     boolean NOT NULL DEFAULT false,
  changes      jsonb   NOT NULL DEFAULT '[]'::jsonb,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (rule, entity)
);

-- Deliveries: written in the same transaction as the transition, sent with retries and backoff.
CREATE TABLE IF NOT EXISTS notification_outbox (
  id              bigserial   PRIMARY KEY,
  alert_id        bigint      REFERENCES alert (id) ON DELETE CASCADE,
  channel         text        NOT NULL,
  receiver        text        NOT NULL,
  payload         jsonb       NOT NULL,
  status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz
);
CREATE INDEX IF NOT EXISTS notification_due ON notification_outbox (next_attempt_at) WHERE status = 'pending';
