-- Reliability: the inbox that recognises redelivered events, and the outbox that holds
-- what to send until the platform has it.

-- One row per event handled; a redelivery finds its row and gets the stored reply.
CREATE TABLE inbox (
    platform TEXT NOT NULL,
    workspace TEXT NOT NULL,
    event_id TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    reply TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (platform, workspace, event_id)
);
CREATE INDEX inbox_received ON inbox(received_at);

-- What to send, written in the same transaction as the change that says it. The card is
-- the neutral UI with ids and public text; private details are only referenced (a
-- disclosure id) and decrypted when the message is rendered for sending. Times here are
-- Unix milliseconds, for back-off.
CREATE TABLE outbox (
    id {{ID}},
    idem_key TEXT NOT NULL UNIQUE,
    platform TEXT NOT NULL,
    workspace TEXT NOT NULL,
    dest_kind TEXT NOT NULL CHECK (dest_kind IN ('channel', 'dm', 'ephemeral')),
    channel_id TEXT NOT NULL DEFAULT '',
    user_id TEXT NOT NULL DEFAULT '',
    user_name TEXT NOT NULL DEFAULT '',
    member_id BIGINT,
    lang TEXT NOT NULL,
    card_key TEXT NOT NULL DEFAULT '',
    card TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    message_id TEXT NOT NULL DEFAULT '',
    last_error TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX outbox_card ON outbox(platform, workspace, card_key, id);
