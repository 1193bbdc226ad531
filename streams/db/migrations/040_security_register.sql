-- 040: the security register, one entry per information system (docs/security-register.md).
--
-- Every change is a new version: the current one has valid_to NULL, an edit closes it (valid_to =
-- the edit's time) and inserts the next, so the table is its own audit trail (who, when, why, what
-- the entry said on any day).  Retiring a system closes its version without a successor and says
-- who did it.  Field meanings and their legal sources: docs/security-register.md.
CREATE TABLE IF NOT EXISTS security_register (
  id                  bigserial   PRIMARY KEY,
  system              text        NOT NULL,
  valid_from          timestamptz NOT NULL DEFAULT now(),
  valid_to            timestamptz,
  level               smallint    CHECK (level BETWEEN 1 AND 5),
  approval_number     text        NOT NULL DEFAULT '',
  approval_date       date,
  approval_authority  text        NOT NULL DEFAULT '',
  plan_status         text        NOT NULL DEFAULT 'none'
                      CHECK (plan_status IN ('none', 'drafting', 'submitted', 'approved')),
  environment         text        NOT NULL DEFAULT 'production' CHECK (environment IN ('production', 'test')),
  real_data           boolean     NOT NULL DEFAULT false,
  ipv6_ready          boolean     NOT NULL DEFAULT false,
  live                boolean     NOT NULL DEFAULT false,
  cleared_on          date,
  onsite_users        text[]      NOT NULL DEFAULT '{}',
  onsite_contact      text        NOT NULL DEFAULT '',
  monitoring_org      text        NOT NULL DEFAULT '',
  last_inspection     date,
  next_inspection     date,
  inspection_findings integer     CHECK (inspection_findings >= 0),
  inspection_org      text        NOT NULL DEFAULT '',
  layer4_connected    boolean     NOT NULL DEFAULT false,
  note                text        NOT NULL DEFAULT '',
  changed_by          text        NOT NULL,
  change_reason       text        NOT NULL DEFAULT '',
  retired_by          text,
  CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE UNIQUE INDEX IF NOT EXISTS security_register_current ON security_register (system) WHERE valid_to IS NULL;
CREATE INDEX IF NOT EXISTS security_register_history ON security_register (system, valid_from);
