-- Safe visits: named risk levels, categories that need two helpers, a community's visit
-- settings, and on each claim its sealed code word and what the helper reported.

-- The first risk names stand for levels: low is a doorstep errand, medium a ride, high a
-- home visit.
UPDATE categories SET risk = 'doorstep' WHERE risk = 'low';
UPDATE categories SET risk = 'ride' WHERE risk = 'medium';
UPDATE categories SET risk = 'home' WHERE risk = 'high';

-- How many volunteers one request of the category needs: its slot's capacity.
ALTER TABLE categories ADD COLUMN helpers INTEGER NOT NULL DEFAULT 1 CHECK (helpers IN (1, 2));

-- Rules shown to helpers (one per line, empty for the catalogue's), who to call, how
-- long after a visit's end to ask whether all is well, and how long a vetting lasts (0:
-- until a moderator says otherwise).
CREATE TABLE visit_settings (
    community_id BIGINT PRIMARY KEY REFERENCES communities(id) ON DELETE CASCADE,
    rules TEXT NOT NULL DEFAULT '',
    contact TEXT NOT NULL DEFAULT '',
    grace_minutes INTEGER NOT NULL DEFAULT 30 CHECK (grace_minutes > 0),
    vetting_valid_days INTEGER NOT NULL DEFAULT 0 CHECK (vetting_valid_days >= 0)
);

-- The code word of a match is sealed like any private field. arrived_at is the helper's
-- "I've arrived"; checked_at when the helper was asked whether all is well after the
-- visit; alerted_at when the moderators were told nobody answered.
ALTER TABLE claims ADD COLUMN code_ct {{BLOB}};
ALTER TABLE claims ADD COLUMN code_key_id TEXT;
ALTER TABLE claims ADD COLUMN arrived_at BIGINT;
ALTER TABLE claims ADD COLUMN checked_at BIGINT;
ALTER TABLE claims ADD COLUMN alerted_at BIGINT;
