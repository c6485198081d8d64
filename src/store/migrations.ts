/**
 * Schema of the embedded store, as an ordered list of migrations. Applied once each, in order,
 * inside a transaction; `PRAGMA user_version` records how far a database has got. Never edit a
 * migration that has shipped: add a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE tokens (
    id          TEXT PRIMARY KEY,
    hash        TEXT NOT NULL UNIQUE,
    agent       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    revoke_seq  INTEGER,
    note        TEXT
  );
  CREATE INDEX tokens_agent ON tokens(agent);
  CREATE INDEX tokens_revoke_seq ON tokens(revoke_seq) WHERE revoke_seq IS NOT NULL;

  CREATE TABLE secrets (
    name        TEXT PRIMARY KEY,
    version     INTEGER NOT NULL,
    nonce       BLOB NOT NULL,
    ciphertext  BLOB NOT NULL,
    tag         BLOB NOT NULL,
    key_id      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  );

  CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY,
    time        TEXT NOT NULL,
    type        TEXT NOT NULL,
    request_id  TEXT,
    agent       TEXT,
    owner       TEXT,
    decision    TEXT,
    host        TEXT,
    body        TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
  );
  CREATE INDEX audit_time ON audit_events(time);
  CREATE INDEX audit_agent ON audit_events(agent, seq);
  CREATE INDEX audit_request ON audit_events(request_id) WHERE request_id IS NOT NULL;

  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
]
