-- Departures: a platform account that left its space (the platform's member-left event),
-- requests paused while their requester is away, and one row per departure acted on.

-- When an account left its space; any later event from it clears it. A member is gone
-- when none of their accounts in a bound space is still there.
ALTER TABLE identities ADD COLUMN left_at BIGINT;

-- A request paused because its requester left: the board shows it without a claim button
-- and its jobs hold until the requester (or a moderator) resumes it.
ALTER TABLE requests ADD COLUMN paused_at BIGINT;

-- One row per member who left with nothing of theirs still present: what was handed back
-- (counts), whether their volunteering was paused, and when they came back.
CREATE TABLE departures (
    id {{ID}},
    community_id BIGINT NOT NULL REFERENCES communities(id),
    member_id BIGINT NOT NULL REFERENCES members(id),
    left_at BIGINT NOT NULL,
    claims INTEGER NOT NULL DEFAULT 0,
    offers INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    volunteering_paused {{BOOL}} NOT NULL DEFAULT FALSE,
    returned_at BIGINT
);
CREATE INDEX departures_member ON departures(member_id, id);
