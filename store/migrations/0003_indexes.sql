-- Indexes that keep the hot paths flat as tables grow: live outbox rows only (delivered
-- rows pile up until pruned), keyed cards waiting for an earlier message, and a member's
-- own requests.
DROP INDEX outbox_due;
CREATE INDEX outbox_live ON outbox(next_attempt_at, id) WHERE state IN ('pending', 'sending');
CREATE INDEX outbox_card_live ON outbox(platform, workspace, card_key, id) WHERE card_key <> '' AND state IN ('pending', 'sending');
CREATE INDEX requests_requester ON requests(requester_id, status);
