-- The core: communities, members and their consents, requests, offers, slots and claims,
-- and the audit trail. {{ID}}, {{BLOB}} and {{BOOL}} are filled in per engine; times are
-- Unix seconds so both engines compare them the same way.

CREATE TABLE communities (
    id {{ID}},
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    locale TEXT NOT NULL DEFAULT 'en',
    timezone TEXT NOT NULL DEFAULT 'UTC',
    region TEXT NOT NULL DEFAULT '',
    retention_days INTEGER NOT NULL DEFAULT 30,
    privacy_officer TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE TABLE categories (
    community_id BIGINT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    risk TEXT NOT NULL DEFAULT 'low',
    tier TEXT NOT NULL DEFAULT 'volunteer' CHECK (tier IN ('member', 'volunteer', 'vetted')),
    position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (community_id, key)
);

CREATE TABLE crisis_resources (
    id {{ID}},
    community_id BIGINT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    contact TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE space_bindings (
    platform TEXT NOT NULL,
    workspace TEXT NOT NULL,
    community_id BIGINT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    board_channel TEXT NOT NULL,
    moderators_channel TEXT NOT NULL,
    PRIMARY KEY (platform, workspace)
);

CREATE TABLE members (
    id {{ID}},
    community_id BIGINT NOT NULL REFERENCES communities(id),
    display_name TEXT NOT NULL,
    locale TEXT NOT NULL DEFAULT '',
    notice_version TEXT NOT NULL,
    accepted_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE identities (
    community_id BIGINT NOT NULL REFERENCES communities(id),
    platform TEXT NOT NULL,
    platform_user_id TEXT NOT NULL,
    member_id BIGINT NOT NULL REFERENCES members(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, platform, platform_user_id)
);
CREATE INDEX identities_member ON identities(member_id);

CREATE TABLE consents (
    id {{ID}},
    member_id BIGINT NOT NULL REFERENCES members(id),
    purpose TEXT NOT NULL,
    scope_request_id BIGINT,
    scope_offer_id BIGINT,
    scope_member_id BIGINT,
    granted_at BIGINT NOT NULL,
    withdrawn_at BIGINT,
    evidence TEXT NOT NULL
);
CREATE INDEX consents_member ON consents(member_id, purpose);

CREATE TABLE volunteer_profiles (
    member_id BIGINT PRIMARY KEY REFERENCES members(id),
    categories TEXT NOT NULL,
    areas TEXT NOT NULL,
    availability TEXT NOT NULL,
    paused {{BOOL}} NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A vetting record says that a step was verified, by whom and until when; never what a
-- check found.
CREATE TABLE vettings (
    id {{ID}},
    member_id BIGINT NOT NULL REFERENCES members(id),
    step TEXT NOT NULL,
    verified_by BIGINT REFERENCES members(id),
    verified_at BIGINT NOT NULL,
    expires_at BIGINT
);
CREATE INDEX vettings_member ON vettings(member_id);

CREATE TABLE requests (
    id {{ID}},
    community_id BIGINT NOT NULL REFERENCES communities(id),
    requester_id BIGINT NOT NULL REFERENCES members(id),
    category TEXT NOT NULL,
    summary TEXT NOT NULL,
    area TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    show_name {{BOOL}} NOT NULL DEFAULT FALSE,
    may_share {{BOOL}} NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'matched', 'done', 'cancelled', 'expired')),
    private_ct {{BLOB}},
    private_key_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX requests_community ON requests(community_id, status);

CREATE TABLE offers (
    id {{ID}},
    community_id BIGINT NOT NULL REFERENCES communities(id),
    volunteer_id BIGINT NOT NULL REFERENCES members(id),
    category TEXT NOT NULL,
    summary TEXT NOT NULL,
    area TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'full', 'done', 'cancelled')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (ends_at > starts_at)
);

-- Slots are what gets claimed. taken counts live claims; the CHECK and the conditional
-- UPDATE in the claim flow are what keep a slot from being over-claimed.
CREATE TABLE slots (
    id {{ID}},
    request_id BIGINT REFERENCES requests(id),
    offer_id BIGINT REFERENCES offers(id),
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    capacity INTEGER NOT NULL CHECK (capacity > 0),
    taken INTEGER NOT NULL DEFAULT 0,
    CHECK (taken >= 0 AND taken <= capacity),
    CHECK ((request_id IS NULL) <> (offer_id IS NULL))
);
CREATE INDEX slots_request ON slots(request_id);
CREATE INDEX slots_offer ON slots(offer_id);

CREATE TABLE claims (
    id {{ID}},
    slot_id BIGINT NOT NULL REFERENCES slots(id),
    member_id BIGINT NOT NULL REFERENCES members(id),
    state TEXT NOT NULL CHECK (state IN ('offered', 'accepted', 'done', 'declined', 'withdrawn', 'cancelled')),
    private_ct {{BLOB}},
    private_key_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- One live claim per person per slot.
CREATE UNIQUE INDEX claims_live ON claims(slot_id, member_id) WHERE state IN ('offered', 'accepted', 'done');
CREATE INDEX claims_member ON claims(member_id);

-- Every reveal of private data: who saw what, when and on what basis.
CREATE TABLE disclosures (
    id {{ID}},
    community_id BIGINT NOT NULL REFERENCES communities(id),
    subject_member_id BIGINT NOT NULL REFERENCES members(id),
    viewer_member_id BIGINT NOT NULL REFERENCES members(id),
    request_id BIGINT REFERENCES requests(id),
    claim_id BIGINT REFERENCES claims(id),
    fields TEXT NOT NULL,
    basis TEXT NOT NULL,
    consent_id BIGINT REFERENCES consents(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE audit_log (
    id {{ID}},
    community_id BIGINT NOT NULL REFERENCES communities(id),
    actor_member_id BIGINT,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_community ON audit_log(community_id, id);

-- Where a card was posted, so later updates edit it in place.
CREATE TABLE posted_messages (
    platform TEXT NOT NULL,
    workspace TEXT NOT NULL,
    card_key TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (platform, workspace, card_key)
);

-- A form answered step by step in a direct-message dialogue. Answers may be private, so
-- they are sealed like any private field.
CREATE TABLE dialogues (
    platform TEXT NOT NULL,
    workspace TEXT NOT NULL,
    user_id TEXT NOT NULL,
    form TEXT NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    answers_ct {{BLOB}},
    answers_key_id TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (platform, workspace, user_id)
);
