-- 044: how applicants of online dossiers signed in (the dossier contract's optional auth_method),
-- counted per day with the dossiers received: the plan's target "citizens authenticated with the
-- national e-ID (VNeID)" (agents/indicators/dossier.py).  Rows written before count 0: not reported.
ALTER TABLE dossier_day ADD COLUMN IF NOT EXISTS auth_reported bigint NOT NULL DEFAULT 0;
ALTER TABLE dossier_day ADD COLUMN IF NOT EXISTS auth_vneid    bigint NOT NULL DEFAULT 0;
