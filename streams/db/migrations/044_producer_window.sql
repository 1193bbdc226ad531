-- 044: every producer itself (the system, agency, camera link or station that sends a feed's events),
-- counted per 10 minutes by the worker in the batch's transaction (streams/core/tables.py,
-- PRODUCER_WINDOW): what arrived, what was stored (fresh), copies of stored events, and what was
-- rejected as invalid, late or otherwise dead-lettered; its newest event and arrival.  The sources page
-- and the source.quiet indicator learn each producer's expected events per hour from the same hour of
-- the last four weeks (agents/indicators/producers.py).
CREATE TABLE IF NOT EXISTS producer_window (
  time         timestamptz NOT NULL,
  family       text        NOT NULL,
  producer     text        NOT NULL,
  received     bigint      NOT NULL DEFAULT 0,
  accepted     bigint      NOT NULL DEFAULT 0,
  duplicates   bigint      NOT NULL DEFAULT 0,
  invalid      bigint      NOT NULL DEFAULT 0,
  late         bigint      NOT NULL DEFAULT 0,
  dropped      bigint      NOT NULL DEFAULT 0,
  last_event   timestamptz,
  last_arrival timestamptz,
  PRIMARY KEY (family, producer, time)
);
SELECT create_hypertable('producer_window', 'time', chunk_time_interval => interval '7 days', if_not_exists => true);
