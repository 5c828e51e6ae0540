-- Privacy incidents: the register of confidentiality incidents Quebec's private sector
-- act asks an organisation to keep. Dates are calendar dates (YYYY-MM-DD) as the
-- organisation knows them, not instants; the free text (what information, the
-- circumstances, the reasons of the risk assessment, the measures taken) may itself be
-- sensitive and is sealed as one value.
CREATE TABLE privacy_incidents (
    id {{ID}},
    community_id BIGINT NOT NULL REFERENCES communities(id),
    -- When it happened: a day, or a period (occurred_until after occurred_from), possibly
    -- approximate.
    occurred_from TEXT NOT NULL,
    occurred_until TEXT NOT NULL DEFAULT '',
    occurred_approx {{BOOL}} NOT NULL DEFAULT FALSE,
    known_on TEXT NOT NULL,
    -- How many people are affected: NULL when unknown, else a number or an estimate.
    affected INTEGER,
    affected_estimate {{BOOL}} NOT NULL DEFAULT FALSE,
    risk TEXT NOT NULL CHECK (risk IN ('low', 'medium', 'high')),
    notified_cai_on TEXT NOT NULL DEFAULT '',
    notified_people_on TEXT NOT NULL DEFAULT '',
    details_ct {{BLOB}},
    details_key_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX privacy_incidents_community ON privacy_incidents(community_id, id);
