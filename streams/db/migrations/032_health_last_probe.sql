-- The newest successful and the newest failed probe of each health window: a system is "down"
-- once its probes have kept failing for agents/data/status.yaml's down.no_success_s (the newest
-- failed probe that long after the last successful one), within seconds rather than minutes.
-- Kept with greatest(), so batches and workers may add up in any order.
ALTER TABLE health_window ADD COLUMN IF NOT EXISTS last_ok timestamptz;
ALTER TABLE health_window ADD COLUMN IF NOT EXISTS last_failed timestamptz;
