-- authnz-express API keys, migration 001. Holds HMAC-SHA256 digests of keys, never keys.
CREATE SCHEMA IF NOT EXISTS "public";
CREATE TABLE IF NOT EXISTS "public"."authnz_api_keys" (
  id            text PRIMARY KEY,
  prefix        text NOT NULL,
  hash          text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  owner         text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('service', 'user')),
  scopes        text[] NOT NULL DEFAULT '{}',
  level         integer NOT NULL DEFAULT 0,
  name          text,
  role          text,
  created       timestamptz NOT NULL,
  not_before    timestamptz,
  expires       timestamptz,
  revoked       timestamptz,
  last_used     timestamptz,
  rotated_to    text,
  allowed_cidrs text[]
);
