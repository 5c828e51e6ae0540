-- Key rotation by envelope encryption. Private values are sealed with a data key; each
-- data key is kept here wrapped (AES-256-GCM) by a master key, which comes from the
-- environment or a key file and never enters the database. Values sealed directly with a
-- master key (everything sealed before the first rotation) stay readable with it.
CREATE TABLE data_keys (
    id TEXT PRIMARY KEY,
    -- The key sealed by the master key named in wrapped_by; erased (NULL) once retired.
    wrapped {{BLOB}},
    wrapped_by TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('current', 'retiring', 'retired')),
    created_at BIGINT NOT NULL,
    retired_at BIGINT,
    CHECK ((state = 'retired') = (wrapped IS NULL))
);
-- One current key at a time, held by the database rather than by the rotating process.
CREATE UNIQUE INDEX data_keys_one_current ON data_keys(state) WHERE state = 'current';

-- A rotation, from its new key's creation until no value uses an older key. An
-- unfinished row is resumed by the next `tend keys rotate`.
CREATE TABLE key_rotations (
    id {{ID}},
    new_key TEXT NOT NULL REFERENCES data_keys(id),
    started_at BIGINT NOT NULL,
    finished_at BIGINT
);
