-- 031: findings of layer 4 (the national monitoring centre's own alerts, made findings here) are not
-- forwarded back up to where they came from: the capture trigger of migration 011 skips them.

CREATE OR REPLACE FUNCTION ioc_soc_capture() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.layer = 4 THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO soc_outbox (op, finding) VALUES ('new', to_jsonb(NEW));
  ELSIF NEW.severity IS DISTINCT FROM OLD.severity THEN
    INSERT INTO soc_outbox (op, finding) VALUES ('update', to_jsonb(NEW));
  END IF;
  RETURN NULL;
END
$$;
