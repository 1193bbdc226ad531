-- 034: the id ledger.  An event id counts once per feed family, whatever its timestamp.
--
-- The raw hypertables are keyed by (id, time): TimescaleDB wants the partitioning column in every
-- unique index, so they alone would take an event re-sent with its time re-formatted (µs cut to ms)
-- for a new one.  This ordinary table is keyed by (family, id); the sink inserts a batch's ids here
-- first (ON CONFLICT DO NOTHING RETURNING, same transaction) and stores and counts only those it got
-- back.  `time` is the event time of the first copy, `arrived` when it was stored.  Housekeeping
-- deletes the ids of a family that arrived longer ago than the family's raw retention
-- (IOC_RETENTION_DAYS of its raw table), so an id is remembered at least as long as its event.
CREATE TABLE IF NOT EXISTS event_id_ledger (
  family   text        NOT NULL,
  id       text        NOT NULL,
  time     timestamptz NOT NULL,
  arrived  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (family, id)
);
CREATE INDEX IF NOT EXISTS event_id_ledger_arrived ON event_id_ledger (family, arrived);

-- The events already stored: the earliest copy of each id (an id stored twice before this
-- migration counted twice; it is remembered once from now on).
INSERT INTO event_id_ledger (family, id, time)
  SELECT 'health', id, min(time) FROM health_event GROUP BY id ON CONFLICT DO NOTHING;
INSERT INTO event_id_ledger (family, id, time)
  SELECT 'security', id, min(time) FROM security_event GROUP BY id ON CONFLICT DO NOTHING;
INSERT INTO event_id_ledger (family, id, time)
  SELECT 'camera', id, min(time) FROM camera_event GROUP BY id ON CONFLICT DO NOTHING;
INSERT INTO event_id_ledger (family, id, time)
  SELECT 'sensor', id, min(time) FROM sensor_observation GROUP BY id ON CONFLICT DO NOTHING;
INSERT INTO event_id_ledger (family, id, time)
  SELECT 'dossier', id, min(time) FROM dossier_event GROUP BY id ON CONFLICT DO NOTHING;
INSERT INTO event_id_ledger (family, id, time)
  SELECT 'citizen', id, min(time) FROM citizen_event GROUP BY id ON CONFLICT DO NOTHING;
