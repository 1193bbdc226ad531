-- 020: console users with roles, their sessions, read-only wall tokens, login attempts, audit.

-- Console users.  Names are lower case; passwords are argon2id hashes (never a default password).
CREATE TABLE IF NOT EXISTS users (
  id                  bigserial   PRIMARY KEY,
  name                text        NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._@-]{1,63}$'),
  role                text        NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  password_hash       text        NOT NULL,
  disabled            boolean     NOT NULL DEFAULT false,
  created_at          timestamptz NOT NULL DEFAULT now(),
  password_changed_at timestamptz NOT NULL DEFAULT now(),
  last_login_at       timestamptz
);

-- Signed-in browsers.  The cookie holds a random token; only its keyed hash is stored here.
CREATE TABLE IF NOT EXISTS user_session (
  token_hash  bytea       PRIMARY KEY,
  user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  last_seen   timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  address     text        NOT NULL DEFAULT '',
  user_agent  text        NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS user_session_user ON user_session (user_id);

-- Wall screens: a token that only views and never expires; revoked by hand.
CREATE TABLE IF NOT EXISTS wall_token (
  id           bigserial   PRIMARY KEY,
  name         text        NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9._@-]{1,63}$'),
  token_hash   bytea       NOT NULL UNIQUE,
  created_by   text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS wall_token_active_name ON wall_token (name) WHERE revoked_at IS NULL;

-- Every login attempt: the audit, and what the rate limit counts.
CREATE TABLE IF NOT EXISTS login_attempt (
  id         bigserial   PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  username   text        NOT NULL,
  address    text        NOT NULL,
  outcome    text        NOT NULL CHECK (outcome IN ('ok', 'bad_password', 'unknown_user', 'disabled',
                                                     'rate_limited')),
  user_agent text        NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS login_attempt_user ON login_attempt (username, at);
CREATE INDEX IF NOT EXISTS login_attempt_address ON login_attempt (address, at);

-- Who changed users, tokens and sessions, and who started drills or replays from the console.
CREATE TABLE IF NOT EXISTS auth_event (
  id      bigserial   PRIMARY KEY,
  at      timestamptz NOT NULL DEFAULT now(),
  actor   text        NOT NULL,
  kind    text        NOT NULL,
  subject text        NOT NULL DEFAULT '',
  detail  jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS auth_event_at ON auth_event (at);
