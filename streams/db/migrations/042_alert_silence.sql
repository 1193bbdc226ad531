-- 042: silences by matcher, for alerts that have not fired yet (a camera group during works, a rule
-- being tuned).  A silence matches a rule and an entity by name or shell pattern ('*' = any) and,
-- optionally, labels; between starts_at and ends_at a matching alert is stored and shown but nobody
-- is notified and it does not escalate.  Ending one early sets ended_at; rows are kept (the audit).
CREATE TABLE IF NOT EXISTS alert_silence (
  id          bigserial   PRIMARY KEY,
  rule        text        NOT NULL DEFAULT '*',
  entity      text        NOT NULL DEFAULT '*',
  labels      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL,
  comment     text        NOT NULL,
  created_by  text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  ended_at    timestamptz,
  ended_by    text,
  CHECK (ends_at > starts_at)
);
CREATE INDEX IF NOT EXISTS alert_silence_time ON alert_silence (starts_at, ends_at);

-- "was anyone told it fired?" before announcing a resolution (a silenced alert resolves quietly)
CREATE INDEX IF NOT EXISTS notification_outbox_alert ON notification_outbox (alert_id);
