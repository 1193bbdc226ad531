-- 052: read tokens of the versioned read API (/api/v1, ioc_dash/api.py), managed with
-- `ioc users api-token create|list|revoke`; only a token's hash is kept.  The rate limit counts
-- requests per token in a fixed minute (window_start, window_count), in the row itself, so every
-- dashboard process shares one count.
CREATE TABLE IF NOT EXISTS api_token (
  id           bigserial   PRIMARY KEY,
  name         text        NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9._@-]{1,63}$'),
  token_hash   bytea       NOT NULL UNIQUE,
  created_by   text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz,
  window_start timestamptz NOT NULL DEFAULT now(),
  window_count integer     NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS api_token_active_name ON api_token (name) WHERE revoked_at IS NULL;
