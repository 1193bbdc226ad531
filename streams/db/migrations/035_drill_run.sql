-- 035: drill runs, and the drill an alert belongs to.

-- One row per run of a drill scenario (ioc drill, or the console's "start drill"): registered when
-- it starts, closed when it ends (done, stopped, failed).  What the run promised (alerts, the
-- entities it touches, its timeline) is kept with it, so the after-action score does not depend
-- on the scenario file staying the same.
CREATE TABLE IF NOT EXISTS drill_run (
  id           bigserial   PRIMARY KEY,
  scenario     text        NOT NULL,
  run          text        NOT NULL,                -- the run part of its event ids: drill-<scenario>-<run>-…
  title_vi     text        NOT NULL DEFAULT '',
  title_en     text        NOT NULL DEFAULT '',
  started_at   timestamptz NOT NULL,
  ends_at      timestamptz NOT NULL,                -- when the timeline ends (start + duration / speed)
  finished_at  timestamptz,
  status       text        NOT NULL DEFAULT 'running'
                           CHECK (status IN ('running', 'done', 'stopped', 'failed')),
  started_by   text        NOT NULL,
  speed        double precision NOT NULL DEFAULT 1,
  expected     jsonb       NOT NULL DEFAULT '[]'::jsonb,  -- promised alerts [{rule, entity}]
  targets      text[]      NOT NULL DEFAULT '{}',         -- entities the drill touches
  steps        jsonb       NOT NULL DEFAULT '[]'::jsonb,  -- the timeline [{at, for, what, note}], real seconds
  signals      jsonb,                                     -- verdicts at the end [{says_vi, says_en, ok, observed}]
  note         text
);
CREATE INDEX IF NOT EXISTS drill_run_started ON drill_run (started_at DESC);
CREATE INDEX IF NOT EXISTS drill_run_running ON drill_run (id) WHERE status = 'running';

-- An alert raised during a running drill for an entity it touches carries the run.
ALTER TABLE alert ADD COLUMN IF NOT EXISTS drill_run bigint REFERENCES drill_run (id) ON DELETE SET NULL;
ALTER TABLE alert ADD COLUMN IF NOT EXISTS drill text;
CREATE INDEX IF NOT EXISTS alert_drill_run ON alert (drill_run) WHERE drill_run IS NOT NULL;
