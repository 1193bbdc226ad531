-- 043: incidents (related alerts grouped, with an owner, notes and a timeline) and the shift handover log.
-- The grouping rules are in agents/alerting/incidents.py; the alert engine applies them in the same
-- transaction as the alert's firing (agents/alerting/incidentstore.py).

-- One row per incident: open while one of its alerts is, resolved when all are, closed by an operator.
CREATE TABLE IF NOT EXISTS incident (
  id            bigserial   PRIMARY KEY,
  title         text        NOT NULL,
  severity      text        NOT NULL,                 -- the worst of its alerts
  state         text        NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved', 'closed')),
  opened_at     timestamptz NOT NULL,
  resolved_at   timestamptz,
  closed_at     timestamptz,
  closed_by     text,
  closing_note  text,
  owner         text,
  owned_at      timestamptz,
  drill_run     bigint      REFERENCES drill_run (id) ON DELETE SET NULL,
  drill         text,                                 -- a drill's alerts group only among themselves
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (state <> 'closed' OR (closed_at IS NOT NULL AND closed_by IS NOT NULL AND closing_note IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS incident_not_closed ON incident (opened_at DESC) WHERE state <> 'closed';
CREATE INDEX IF NOT EXISTS incident_recent ON incident (opened_at DESC);

-- Which alerts an incident holds: an alert is in one incident at most.
CREATE TABLE IF NOT EXISTS incident_alert (
  alert_id     bigint      PRIMARY KEY REFERENCES alert (id) ON DELETE CASCADE,
  incident_id  bigint      NOT NULL REFERENCES incident (id) ON DELETE CASCADE,
  joined_at    timestamptz NOT NULL,
  reason       text        NOT NULL,                  -- opened | entity | topology | rule
  related      text        NOT NULL DEFAULT ''        -- the entity or rule that related it
);
CREATE INDEX IF NOT EXISTS incident_alert_incident ON incident_alert (incident_id);

-- The incident's own events, with who: opened, alert joined, reopened, resolved, owner, note, title, closed.
CREATE TABLE IF NOT EXISTS incident_event (
  id           bigserial   PRIMARY KEY,
  incident_id  bigint      NOT NULL REFERENCES incident (id) ON DELETE CASCADE,
  at           timestamptz NOT NULL DEFAULT now(),
  kind         text        NOT NULL,
  actor        text        NOT NULL DEFAULT 'system',
  detail       jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS incident_event_incident ON incident_event (incident_id, at);

-- The shift handover log: written at the end of a shift with what was open then (the snapshot),
-- acknowledged by the incoming operator.  Writing and acknowledging are audited in auth_event too.
CREATE TABLE IF NOT EXISTS shift_handover (
  id               bigserial   PRIMARY KEY,
  written_by       text        NOT NULL,
  written_at       timestamptz NOT NULL DEFAULT now(),
  handed_to        text        NOT NULL,
  notes            text        NOT NULL,
  snapshot         jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- {"alerts": [...], "incidents": [...]}
  acknowledged_by  text,
  acknowledged_at  timestamptz,
  CHECK ((acknowledged_by IS NULL) = (acknowledged_at IS NULL)),
  CHECK (acknowledged_by IS NULL OR acknowledged_by <> written_by)
);
CREATE INDEX IF NOT EXISTS shift_handover_recent ON shift_handover (written_at DESC);
