-- 051: the operations reports (agents/indicators/ops_report.py, ioc_dash/reports/ops_report.py),
-- archived as generated: each file once per generation, the scheduled one once per period,
-- language and format (a report generated again on demand is a new row; the list shows the newest).
CREATE TABLE IF NOT EXISTS report_archive (
  id           bigserial   PRIMARY KEY,
  kind         text        NOT NULL CHECK (kind IN ('day', 'week', 'month')),
  period       text        NOT NULL,            -- 2026-11-30, 2026-W48, 2026-11
  first_day    date        NOT NULL,
  last_day     date        NOT NULL,
  lang         text        NOT NULL CHECK (lang IN ('vi', 'en')),
  format       text        NOT NULL CHECK (format IN ('pdf', 'xlsx')),
  content      bytea       NOT NULL,
  size         integer     NOT NULL,
  sha256       text        NOT NULL,
  generated_at timestamptz NOT NULL DEFAULT now(),
  generated_by text        NOT NULL              -- 'schedule', or the user who asked
);
CREATE INDEX IF NOT EXISTS report_archive_period ON report_archive (kind, period, lang, format);
CREATE INDEX IF NOT EXISTS report_archive_recent ON report_archive (generated_at DESC);
