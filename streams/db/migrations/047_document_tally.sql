-- 045: the e-office's daily document tallies (health family, contract DocumentTally): the plan's
-- targets "documents exchanged between state agencies in electronic form" and "work records handled
-- online" (agents/indicators/health.py).  A tally is stored with the system's other events, kind
-- 'tally' (no latency), and its counts per local day in document_day, the day's greatest count.
ALTER TABLE health_event DROP CONSTRAINT IF EXISTS health_event_kind_check;
ALTER TABLE health_event ADD CONSTRAINT health_event_kind_check CHECK (kind IN ('probe', 'request', 'tally'));
ALTER TABLE health_event ALTER COLUMN latency_ms DROP NOT NULL;

CREATE TABLE IF NOT EXISTS document_day (
  time                      timestamptz NOT NULL,  -- the local midnight that starts the day, as UTC
  system                    text        NOT NULL,
  unit_code                 text        NOT NULL,
  level                     text        NOT NULL,
  documents_sent            bigint,
  documents_sent_electronic bigint,
  work_records              bigint,
  work_records_online       bigint,
  last_event                timestamptz,
  updated_at                timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (system, unit_code, level, time)
);
SELECT create_hypertable('document_day', 'time', chunk_time_interval => interval '90 days', if_not_exists => true);
CREATE INDEX IF NOT EXISTS document_day_recent ON document_day (time DESC);
