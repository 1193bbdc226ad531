-- 011: layer-4 forwarding (Directive 14/CT-TTg): security findings to the upstream SOC.
--
-- A trigger copies each new finding (and each change of a finding's severity) into soc_outbox
-- in the detector's own transaction, so nothing is lost while the link is down; the forwarder
-- sends unsent rows in id order and stamps sent_at.  soc_link keeps the link's health for the
-- wall and the alert rules.

CREATE TABLE IF NOT EXISTS soc_outbox (
  id          bigserial   PRIMARY KEY,
  op          text        NOT NULL CHECK (op IN ('new', 'update')),
  finding     jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz
);
CREATE INDEX IF NOT EXISTS soc_outbox_unsent ON soc_outbox (id) WHERE sent_at IS NULL;

CREATE TABLE IF NOT EXISTS soc_link (
  link             text        PRIMARY KEY,
  target           text        NOT NULL DEFAULT '',
  up               boolean     NOT NULL DEFAULT false,
  failures         integer     NOT NULL DEFAULT 0,
  last_attempt_at  timestamptz,
  last_success_at  timestamptz,
  last_error       text,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  forwarded        bigint      NOT NULL DEFAULT 0
);

CREATE OR REPLACE FUNCTION ioc_soc_capture() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO soc_outbox (op, finding) VALUES ('new', to_jsonb(NEW));
  ELSIF NEW.severity IS DISTINCT FROM OLD.severity THEN
    INSERT INTO soc_outbox (op, finding) VALUES ('update', to_jsonb(NEW));
  END IF;
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS soc_capture ON security_finding;
CREATE TRIGGER soc_capture AFTER INSERT OR UPDATE ON security_finding
  FOR EACH ROW EXECUTE FUNCTION ioc_soc_capture();

-- Wake-ups: dispatchers and the forwarder LISTEN and are told on commit that rows arrived,
-- instead of polling often (they still poll now and then for retries that fall due).
CREATE OR REPLACE FUNCTION ioc_outbox_wakeup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(TG_ARGV[0], '');
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS notification_outbox_wakeup ON notification_outbox;
CREATE TRIGGER notification_outbox_wakeup AFTER INSERT ON notification_outbox
  FOR EACH STATEMENT EXECUTE FUNCTION ioc_outbox_wakeup('ioc_notification_outbox');
DROP TRIGGER IF EXISTS soc_outbox_wakeup ON soc_outbox;
CREATE TRIGGER soc_outbox_wakeup AFTER INSERT ON soc_outbox
  FOR EACH STATEMENT EXECUTE FUNCTION ioc_outbox_wakeup('ioc_soc_outbox');
