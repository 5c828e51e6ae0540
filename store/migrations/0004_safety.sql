-- Safety and escalation: cases for moderators (crisis signals, flags, worries), their
-- timeline, the partner directory, referrals, suspensions from the bot, and hiding.

-- A case. The person's words are never stored here: a crisis signal keeps its tier and
-- where it was seen; a held request or offer is sealed until the person chooses.
CREATE TABLE escalations (
    id {{ID}},
    community_id BIGINT NOT NULL REFERENCES communities(id),
    source TEXT NOT NULL CHECK (source IN ('detector', 'flag', 'worried', 'moderator', 'visit')),
    severity TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'referred', 'resolved')),
    -- The person the case is about: a member, or (the emergency exception, for someone who
    -- has not accepted the privacy notice) only a platform identity.
    member_id BIGINT REFERENCES members(id),
    platform TEXT NOT NULL DEFAULT '',
    platform_user_id TEXT NOT NULL DEFAULT '',
    seen_in TEXT NOT NULL DEFAULT '',
    -- Who raised it, for flags and worries; never shown to the person concerned.
    reporter_id BIGINT REFERENCES members(id),
    subject_kind TEXT NOT NULL DEFAULT '',
    subject_id BIGINT,
    reason TEXT NOT NULL DEFAULT '',
    held_form TEXT NOT NULL DEFAULT '',
    held_ct {{BLOB}},
    held_key_id TEXT,
    alerts INTEGER NOT NULL DEFAULT 0,
    acknowledged_by BIGINT REFERENCES members(id),
    acknowledged_at BIGINT,
    resolved_by BIGINT REFERENCES members(id),
    resolved_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX escalations_community ON escalations(community_id, status, id);
CREATE INDEX escalations_member ON escalations(member_id);

-- A case's timeline: every moderator action, with its note sealed (notes may name
-- private things).
CREATE TABLE escalation_events (
    id {{ID}},
    escalation_id BIGINT NOT NULL REFERENCES escalations(id),
    actor_id BIGINT REFERENCES members(id),
    action TEXT NOT NULL,
    note_ct {{BLOB}},
    note_key_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX escalation_events_case ON escalation_events(escalation_id, id);

-- The partner directory. A route is a channel on a space bound to the community (any
-- platform) or an HTTPS webhook whose signing secret is sealed.
CREATE TABLE partners (
    id {{ID}},
    community_id BIGINT NOT NULL REFERENCES communities(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    languages TEXT NOT NULL DEFAULT '',
    hours TEXT NOT NULL DEFAULT '',
    route_kind TEXT NOT NULL CHECK (route_kind IN ('channel', 'webhook')),
    route_platform TEXT NOT NULL DEFAULT '',
    route_workspace TEXT NOT NULL DEFAULT '',
    route_channel TEXT NOT NULL DEFAULT '',
    webhook_url TEXT NOT NULL DEFAULT '',
    webhook_secret_ct {{BLOB}},
    webhook_secret_key_id TEXT,
    active {{BOOL}} NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (community_id, name)
);

-- A referral of a case to a partner: on the person's consent, or under an emergency
-- override with a written reason (sealed) and the moderator's name.
CREATE TABLE referrals (
    id {{ID}},
    escalation_id BIGINT NOT NULL REFERENCES escalations(id),
    partner_id BIGINT NOT NULL REFERENCES partners(id),
    member_id BIGINT REFERENCES members(id),
    basis TEXT NOT NULL CHECK (basis IN ('consent', 'emergency')),
    consent_id BIGINT REFERENCES consents(id),
    reason_ct {{BLOB}},
    reason_key_id TEXT,
    fields TEXT NOT NULL DEFAULT '',
    referred_by BIGINT NOT NULL REFERENCES members(id),
    state TEXT NOT NULL DEFAULT 'asked' CHECK (state IN ('asked', 'sent', 'acknowledged', 'declined')),
    acknowledged_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX referrals_case ON referrals(escalation_id);

-- A member suspended from the bot by a moderator.
CREATE TABLE suspensions (
    member_id BIGINT PRIMARY KEY REFERENCES members(id),
    suspended_by BIGINT REFERENCES members(id),
    until_at BIGINT,
    created_at BIGINT NOT NULL
);

-- The channel urgent cases reach when the moderators' channel has not answered (an
-- on-call group); empty means the moderators' channel again.
ALTER TABLE space_bindings ADD COLUMN alert_channel TEXT NOT NULL DEFAULT '';

-- Moderators can hide a request or an offer from the board.
ALTER TABLE requests ADD COLUMN hidden {{BOOL}} NOT NULL DEFAULT FALSE;
ALTER TABLE offers ADD COLUMN hidden {{BOOL}} NOT NULL DEFAULT FALSE;
