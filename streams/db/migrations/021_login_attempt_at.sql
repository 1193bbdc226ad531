-- Housekeeping deletes sign-in attempts older than IOC_LOGIN_ATTEMPT_RETENTION_DAYS by time.
CREATE INDEX IF NOT EXISTS login_attempt_at ON login_attempt (at);
