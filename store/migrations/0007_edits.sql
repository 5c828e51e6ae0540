-- Edits and reschedules: when a requester moves the time of a request, each helper on it
-- is asked to confirm the new time. One row per ask; the helper's buttons name the row,
-- so an answer to an ask the requester has since replaced is recognised as stale.
-- state: asked (waiting for the helper), confirmed, declined (the helper stepped back),
-- superseded (the time changed again before they answered).
CREATE TABLE reschedules (
    id {{ID}},
    claim_id BIGINT NOT NULL REFERENCES claims(id),
    request_id BIGINT NOT NULL REFERENCES requests(id),
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    prev_starts_at BIGINT NOT NULL,
    prev_ends_at BIGINT NOT NULL,
    state TEXT NOT NULL DEFAULT 'asked' CHECK (state IN ('asked', 'confirmed', 'declined', 'superseded')),
    created_at BIGINT NOT NULL,
    answered_at BIGINT
);
CREATE INDEX reschedules_claim ON reschedules(claim_id, state);
