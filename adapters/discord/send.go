package discord

import (
	"context"
	"errors"
	"fmt"

	"github.com/tend-community/tend/bot"
)

// Send posts a message to a channel, or to the person's DM channel (opened with
// POST /users/@me/channels and remembered). Discord cannot show a message to one person
// in a channel outside an interaction, so an ephemeral delivery goes to their DMs. The
// delivery's key becomes the message nonce, enforced, so a resend after a crash does not
// post twice. It returns the message id.
func (a *Adapter) Send(ctx context.Context, d bot.Delivery) (string, error) {
	m, err := render(d.To.Workspace, d.Msg)
	if err != nil {
		return "", err
	}
	m.Nonce = nonce(d.Key)
	m.EnforceNonce = m.Nonce != ""
	switch d.To.Kind {
	case bot.DestChannel:
		if d.To.ChannelID == "" {
			return "", fmt.Errorf("%w: discord: channel message without a channel", bot.ErrPermanent)
		}
		return a.post(ctx, d.To.ChannelID, m)
	case bot.DestDM, bot.DestEphemeral:
		if d.To.UserID == "" {
			return "", fmt.Errorf("%w: discord: direct message without a user", bot.ErrPermanent)
		}
		ch, err := a.dmChannel(ctx, d.To.UserID)
		if err != nil {
			return "", err
		}
		id, err := a.post(ctx, ch, m)
		if dmsClosed(err) {
			a.markClosed(d.To.UserID, true)
		} else if errors.Is(err, bot.ErrPermanent) {
			a.dms.Forget(d.To.UserID)
		}
		return id, err
	}
	return "", fmt.Errorf("%w: discord: unknown destination kind %q", bot.ErrPermanent, d.To.Kind)
}

func (a *Adapter) post(ctx context.Context, channel string, m message) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := a.call(ctx, "POST", "/channels/"+channel+"/messages", "POST /channels/"+channel+"/messages", m, &out)
	return out.ID, err
}

// Edit updates a message the bot sent (board cards, matched requests in DMs) with
// PATCH /channels/{channel}/messages/{id}.
func (a *Adapter) Edit(ctx context.Context, d bot.Delivery, messageID string) error {
	if messageID == "" {
		return fmt.Errorf("%w: discord: edit without a message id", bot.ErrPermanent)
	}
	m, err := render(d.To.Workspace, d.Msg)
	if err != nil {
		return err
	}
	ch := d.To.ChannelID
	if d.To.Kind != bot.DestChannel {
		if ch, err = a.dmChannel(ctx, d.To.UserID); err != nil {
			return err
		}
	}
	if ch == "" {
		return fmt.Errorf("%w: discord: edit without a channel", bot.ErrPermanent)
	}
	return a.call(ctx, "PATCH", "/channels/"+ch+"/messages/"+messageID, "PATCH /channels/"+ch+"/messages/{id}", m, nil)
}

// dmChannel is the bot's DM channel with a person: remembered, or opened.
func (a *Adapter) dmChannel(ctx context.Context, user string) (string, error) {
	if user == "" {
		return "", fmt.Errorf("%w: discord: direct message without a user", bot.ErrPermanent)
	}
	ch, ok := a.dms.Get(user)
	if ok {
		return ch, nil
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := a.call(ctx, "POST", "/users/@me/channels", "POST /users/@me/channels", map[string]string{"recipient_id": user}, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", errors.New("discord POST /users/@me/channels: no channel in the answer")
	}
	a.dms.Remember(user, out.ID)
	return out.ID, nil
}

// markClosed remembers (or forgets) that a person's DMs refused the bot.
func (a *Adapter) markClosed(user string, closed bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if closed {
		a.closed[user] = true
	} else {
		delete(a.closed, user)
	}
}

// takeClosed reports, once, that a person's DMs refused the bot.
func (a *Adapter) takeClosed(user string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.closed[user]
	delete(a.closed, user)
	return c
}
