-- 041: acknowledging an alert from its notification (agents/alerting/notify/acklinks.py).
--
-- The acknowledge link of an e-mail works once: the random nonce it carries is recorded here in the
-- transaction that acknowledges the alert, with who used it and from where.  A second use finds its
-- row and is refused.  The acknowledgement itself is in alert_event like any other (actor email:…).
CREATE TABLE IF NOT EXISTS ack_link_use (
  nonce       text        PRIMARY KEY,
  alert_id    bigint      NOT NULL REFERENCES alert (id) ON DELETE CASCADE,
  receiver    text        NOT NULL,
  actor       text        NOT NULL,
  used_at     timestamptz NOT NULL DEFAULT now(),
  address     text        NOT NULL DEFAULT '',
  user_agent  text        NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS ack_link_use_alert ON ack_link_use (alert_id);
