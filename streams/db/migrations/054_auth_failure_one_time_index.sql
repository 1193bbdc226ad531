-- 054: auth_failure_window had two identical indexes on (time DESC): TimescaleDB's own
-- (auth_failure_window_time_idx, made with the hypertable) and auth_failure_recent (003).  Every
-- authentication failure's increment updated both; the planner uses either for the same reads.
DROP INDEX IF EXISTS auth_failure_recent;
