-- Set up and settings from chat and the command line: a community changed there keeps its
-- settings when the config file says otherwise, categories with the community's own
-- labels, moderators named by platform account, and one-time codes that join another
-- space to a community.

-- When a community was last created or changed from chat or the command line. NULL for a
-- community only ever shaped by the config file, which then applies at every start; once
-- set, the config file only adds the spaces the community is missing.
ALTER TABLE communities ADD COLUMN settings_edited_at BIGINT;

-- A category's name in English and in French, as the community wrote it; empty means the
-- catalogue's name for the key.
ALTER TABLE categories ADD COLUMN label_en TEXT NOT NULL DEFAULT '';
ALTER TABLE categories ADD COLUMN label_fr TEXT NOT NULL DEFAULT '';

-- Moderators named from chat or the command line, by platform account (never by display
-- name). Config moderators and platform roles are checked besides these.
CREATE TABLE community_moderators (
    community_id BIGINT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    platform_user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, platform, platform_user_id)
);
CREATE INDEX community_moderators_user ON community_moderators(platform, platform_user_id);

-- A one-time code a moderator made so that another space can join the community. Only a
-- hash of its secret part is kept; lookup is the short public part that finds the row,
-- so wrong tries can be counted against the code they aimed at.
CREATE TABLE join_codes (
    id {{ID}},
    community_id BIGINT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    lookup TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    created_by BIGINT REFERENCES members(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0,
    used_at BIGINT,
    used_platform TEXT NOT NULL DEFAULT '',
    used_workspace TEXT NOT NULL DEFAULT ''
);
CREATE INDEX join_codes_community ON join_codes(community_id);
