-- People without a platform account, asked for by someone who speaks for them, and one
-- person's accounts on several platforms linked into one member.

-- A beneficiary is a member row with no identity: contact_member_id is the member who
-- asked for them and receives their messages. Their name (and how the contact is
-- related to them) is sealed like any private field. erased_at marks personal data
-- erased; the row stays so that counts still add up.
ALTER TABLE members ADD COLUMN contact_member_id BIGINT REFERENCES members(id);
ALTER TABLE members ADD COLUMN person_ct {{BLOB}};
ALTER TABLE members ADD COLUMN person_key_id TEXT;
ALTER TABLE members ADD COLUMN erased_at BIGINT;
CREATE INDEX members_contact ON members(contact_member_id);

-- A one-time code for linking accounts: delivered by direct message on the account that
-- asked for it, entered on the other account, confirmed there. Only its hash is kept to
-- find it; the sealed copy exists only until it is entered or ends, so the direct
-- message can be rendered when it is sent. state: pending (delivered, waiting),
-- entered (bound to the account that typed it, waiting for its confirmation), linked,
-- cancelled, burnt (too many wrong tries).
CREATE TABLE link_codes (
    id {{ID}},
    community_id BIGINT NOT NULL REFERENCES communities(id),
    member_id BIGINT NOT NULL REFERENCES members(id),
    platform TEXT NOT NULL,
    platform_user_id TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    code_ct {{BLOB}},
    code_key_id TEXT,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'entered', 'linked', 'cancelled', 'burnt')),
    attempts INTEGER NOT NULL DEFAULT 0,
    target_platform TEXT NOT NULL DEFAULT '',
    target_user_id TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    entered_at BIGINT,
    ended_at BIGINT
);
-- At most one code on its way per member.
CREATE UNIQUE INDEX link_codes_live ON link_codes(member_id) WHERE state IN ('pending', 'entered');
CREATE INDEX link_codes_hash ON link_codes(code_hash);
CREATE INDEX link_codes_community ON link_codes(community_id, state);

-- Each account linked to a member: which member it joined, which member (if any) was
-- merged into it then (kept as a plain number: that row is gone), and when it was
-- unlinked.
CREATE TABLE member_links (
    id {{ID}},
    community_id BIGINT NOT NULL REFERENCES communities(id),
    member_id BIGINT NOT NULL REFERENCES members(id),
    merged_member_id BIGINT,
    platform TEXT NOT NULL,
    platform_user_id TEXT NOT NULL,
    profile_kept TEXT NOT NULL DEFAULT '',
    linked_at BIGINT NOT NULL,
    unlinked_at BIGINT
);
CREATE INDEX member_links_member ON member_links(member_id);
