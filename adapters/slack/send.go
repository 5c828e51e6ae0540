package slack

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/tend-community/tend/bot"
)

// permanent are Slack error codes that retrying will not fix: the place is gone or
// closed to the bot, the person cannot be reached, the app lost its rights, or the
// message itself is refused.
var permanent = map[string]bool{
	"channel_not_found":       true,
	"not_in_channel":          true,
	"is_archived":             true,
	"user_not_found":          true,
	"user_not_in_channel":     true,
	"user_disabled":           true,
	"cannot_dm_bot":           true,
	"messages_tab_disabled":   true,
	"account_inactive":        true,
	"invalid_auth":            true,
	"not_authed":              true,
	"token_revoked":           true,
	"token_expired":           true,
	"missing_scope":           true,
	"restricted_action":       true,
	"ekm_access_denied":       true,
	"team_access_not_granted": true,
	"message_not_found":       true,
	"cant_update_message":     true,
	"edit_window_closed":      true,
	"invalid_blocks":          true,
	"invalid_blocks_format":   true,
	"msg_too_long":            true,
	"no_text":                 true,
	"invalid_arguments":       true,
}

// apiError maps a Web API failure to what the outbox understands: a rate limit (wait
// and retry), a permanent failure (stop), or anything else (retry with back-off). It
// carries the method and Slack's error code, never message text.
func apiError(method string, err error) error {
	if err == nil {
		return nil
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return &bot.RateLimitError{RetryAfter: max(rl.RetryAfter, time.Second), Bucket: method}
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) && sc.Code == http.StatusTooManyRequests {
		return &bot.RateLimitError{RetryAfter: time.Second, Bucket: method}
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		if se.Err == "ratelimited" {
			return &bot.RateLimitError{RetryAfter: time.Second, Bucket: method}
		}
		if permanent[se.Err] {
			return fmt.Errorf("%w: slack %s: %s", bot.ErrPermanent, method, se.Err)
		}
		return fmt.Errorf("slack %s: %s", method, se.Err)
	}
	return fmt.Errorf("slack %s: %w", method, err)
}

func msgOptions(m message, post bool) []slack.MsgOption {
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...)}
	if post {
		// Never fetch previews of links people typed.
		opts = append(opts, slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl())
	}
	return opts
}

// Send posts a message: chat.postMessage to a channel or to the person's DM (opened
// with conversations.open and remembered), chat.postEphemeral for one person in a
// channel. It returns the message's ts. Slack has no idempotency key for posting, so
// d.Key is not passed on.
func (a *Adapter) Send(ctx context.Context, d bot.Delivery) (string, error) {
	m := render(d.Msg)
	switch d.To.Kind {
	case bot.DestChannel:
		if d.To.ChannelID == "" {
			return "", fmt.Errorf("%w: slack: channel message without a channel", bot.ErrPermanent)
		}
		return a.post(ctx, d.To.ChannelID, m)
	case bot.DestDM:
		ch, err := a.dmChannel(ctx, d.To)
		if err != nil {
			return "", err
		}
		ts, err := a.post(ctx, ch, m)
		if errors.Is(err, bot.ErrPermanent) {
			a.dms.Forget(d.To.UserID)
		}
		return ts, err
	case bot.DestEphemeral:
		if d.To.ChannelID == "" || d.To.UserID == "" {
			return "", fmt.Errorf("%w: slack: ephemeral message without a channel and a user", bot.ErrPermanent)
		}
		ts, err := a.api.PostEphemeralContext(ctx, d.To.ChannelID, d.To.UserID, msgOptions(m, false)...)
		return ts, apiError("chat.postEphemeral", err)
	}
	return "", fmt.Errorf("%w: slack: unknown destination kind %q", bot.ErrPermanent, d.To.Kind)
}

func (a *Adapter) post(ctx context.Context, channel string, m message) (string, error) {
	_, ts, err := a.api.PostMessageContext(ctx, channel, msgOptions(m, true)...)
	return ts, apiError("chat.postMessage", err)
}

// Edit updates a message in place with chat.update (board cards). An ephemeral message
// cannot be edited; a new one is shown instead.
func (a *Adapter) Edit(ctx context.Context, d bot.Delivery, messageID string) error {
	if messageID == "" {
		return fmt.Errorf("%w: slack: edit without a message id", bot.ErrPermanent)
	}
	m := render(d.Msg)
	ch := d.To.ChannelID
	switch d.To.Kind {
	case bot.DestEphemeral:
		_, err := a.Send(ctx, d)
		return err
	case bot.DestDM:
		if !strings.HasPrefix(ch, "D") {
			var err error
			if ch, err = a.dmChannel(ctx, d.To); err != nil {
				return err
			}
		}
	}
	if ch == "" {
		return fmt.Errorf("%w: slack: edit without a channel", bot.ErrPermanent)
	}
	_, _, _, err := a.api.UpdateMessageContext(ctx, ch, messageID, msgOptions(m, false)...)
	return apiError("chat.update", err)
}

// dmChannel is the bot's DM channel with a person: remembered, or opened with
// conversations.open.
func (a *Adapter) dmChannel(ctx context.Context, to bot.Destination) (string, error) {
	if to.UserID == "" {
		if strings.HasPrefix(to.ChannelID, "D") {
			return to.ChannelID, nil
		}
		return "", fmt.Errorf("%w: slack: direct message without a user", bot.ErrPermanent)
	}
	ch, ok := a.dms.Get(to.UserID)
	if ok {
		return ch, nil
	}
	c, _, _, err := a.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{to.UserID}})
	if err != nil {
		return "", apiError("conversations.open", err)
	}
	if c == nil || c.ID == "" {
		return "", errors.New("slack conversations.open: no channel in the answer")
	}
	a.dms.Remember(to.UserID, c.ID)
	return c.ID, nil
}

// deriveKey turns the bot token into a key for digests that must be stable across
// replicas but reveal nothing.
func deriveKey(token string) []byte {
	k := sha256.Sum256([]byte("tend/slack/view-id\x00" + token))
	return k[:]
}
