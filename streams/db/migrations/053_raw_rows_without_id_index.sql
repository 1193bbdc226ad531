-- 053: the raw tables lose their unique (id, time) index.  The id ledger (034) already refuses a
-- second copy of an id, whatever its time, in the same statement that stores the first; the raw
-- table's index was a second guard on every insert (about half of a raw row's write in time and
-- WAL).  What it alone refused, an event re-sent after the ledger forgot its id while the event's
-- chunk was still kept, cannot happen now: housekeeping keeps a family's ids one chunk interval
-- (plus the future tolerance) longer than the family's raw retention
-- (agents.indicators.housekeeping.ledger_before), so an id is forgotten only after drop_chunks
-- has dropped its event.  Within one batch, the sink stores the first copy of an id only.
ALTER TABLE health_event DROP CONSTRAINT IF EXISTS health_event_pkey;
ALTER TABLE security_event DROP CONSTRAINT IF EXISTS security_event_pkey;
ALTER TABLE camera_event DROP CONSTRAINT IF EXISTS camera_event_pkey;
ALTER TABLE sensor_observation DROP CONSTRAINT IF EXISTS sensor_observation_pkey;
ALTER TABLE dossier_event DROP CONSTRAINT IF EXISTS dossier_event_pkey;
ALTER TABLE citizen_event DROP CONSTRAINT IF EXISTS citizen_event_pkey;
ALTER TABLE network_event DROP CONSTRAINT IF EXISTS network_event_pkey;
