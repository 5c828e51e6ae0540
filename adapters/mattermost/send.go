package mattermost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/tend-community/tend/bot"
)

// maxRefs bounds the memory of which post carries which reference; a forgotten one is
// asked of the server.
const maxRefs = 10000

// Send posts a message to a channel, to the person's direct channel with the bot
// (opened with POST /channels/direct and remembered), or to one person in a channel
// (POST /posts/ephemeral). The delivery's key becomes the post's pending_post_id, which
// the server deduplicates for a while, so a resend after a crash does not post twice. It
// returns the post id.
func (a *Adapter) Send(ctx context.Context, d bot.Delivery) (string, error) {
	switch d.To.Kind {
	case bot.DestChannel:
		if d.To.ChannelID == "" {
			return "", fmt.Errorf("%w: mattermost: channel message without a channel", bot.ErrPermanent)
		}
		return a.post(ctx, d.To.Workspace, d.To.ChannelID, d.Msg, d.Key)
	case bot.DestDM:
		ch, err := a.dmChannel(ctx, d.To.UserID)
		if err != nil {
			return "", err
		}
		return a.post(ctx, d.To.Workspace, ch, d.Msg, d.Key)
	case bot.DestEphemeral:
		if d.To.UserID == "" {
			return "", fmt.Errorf("%w: mattermost: ephemeral message without a user", bot.ErrPermanent)
		}
		if d.To.ChannelID == "" {
			ch, err := a.dmChannel(ctx, d.To.UserID)
			if err != nil {
				return "", err
			}
			return a.post(ctx, d.To.Workspace, ch, d.Msg, d.Key)
		}
		return a.ephemeral(ctx, d.To.Workspace, d.To.ChannelID, d.To.UserID, d.Msg, ephemeralID(d.Key), d.Key)
	}
	return "", fmt.Errorf("%w: mattermost: unknown destination kind %q", bot.ErrPermanent, d.To.Kind)
}

// post creates a post whose buttons are bound to the delivery key's reference.
func (a *Adapter) post(ctx context.Context, workspace, channel string, m bot.Rendered, key string) (string, error) {
	ref := keyRef(key)
	p := &model.Post{ChannelId: channel, Message: content(m), PendingPostId: pendingID(key)}
	p.SetProps(a.props(workspace, m, ref))
	out, resp, err := a.api.CreatePost(ctx, p)
	if err != nil {
		return "", apiError("POST /posts", resp, err)
	}
	a.bind(ref, out.Id)
	return out.Id, nil
}

// ephemeral shows a post to one person in a channel, its buttons bound to them. Its id
// is chosen here; posting again with the same id replaces it on screen. Where the bot may
// not post ephemeral messages, it goes to the person's direct channel.
func (a *Adapter) ephemeral(ctx context.Context, workspace, channel, user string, m bot.Rendered, id, key string) (string, error) {
	if !a.noEphemeral.Load() {
		ref := userRef(user, channel)
		err := a.postEphemeral(ctx, channel, user, id, content(m), a.props(workspace, m, ref))
		if err == nil {
			return id, nil
		}
		if status(err) != 403 {
			return "", err
		}
		a.ephemeralRefused(err)
	}
	ch, err := a.dmChannel(ctx, user)
	if err != nil {
		return "", err
	}
	return a.post(ctx, workspace, ch, m, key)
}

// Edit updates a post the bot sent (board cards, matched requests in DMs) with
// PUT /posts/{id}/patch, keeping the reference its buttons are bound to. An ephemeral
// post cannot be patched: it is shown again under the same id, which replaces it.
func (a *Adapter) Edit(ctx context.Context, d bot.Delivery, messageID string) error {
	if messageID == "" {
		return fmt.Errorf("%w: mattermost: edit without a message id", bot.ErrPermanent)
	}
	old, resp, err := a.api.GetPost(ctx, messageID, "")
	if err != nil {
		err = apiError("GET /posts/{id}", resp, err)
		if d.To.Kind == bot.DestEphemeral && d.To.ChannelID != "" && status(err) == 404 && !a.noEphemeral.Load() {
			// Not in the database: an ephemeral post.
			ref := userRef(d.To.UserID, d.To.ChannelID)
			return a.postEphemeral(ctx, d.To.ChannelID, d.To.UserID, messageID, content(d.Msg), a.props(d.To.Workspace, d.Msg, ref))
		}
		return err
	}
	ref, _ := old.GetProp(propRef).(string)
	if ref == "" {
		ref = postRef(messageID)
	}
	msg := content(d.Msg)
	props := a.props(d.To.Workspace, d.Msg, ref)
	if _, resp, err := a.api.PatchPost(ctx, messageID, &model.PostPatch{Message: &msg, Props: &props}); err != nil {
		return apiError("PUT /posts/{id}/patch", resp, err)
	}
	a.bind(ref, messageID)
	return nil
}

// dmChannel is the bot's direct channel with a person: remembered, or opened.
func (a *Adapter) dmChannel(ctx context.Context, user string) (string, error) {
	if user == "" {
		return "", fmt.Errorf("%w: mattermost: direct message without a user", bot.ErrPermanent)
	}
	if ch, ok := a.dms.Get(user); ok {
		return ch, nil
	}
	me, err := a.self(ctx)
	if err != nil {
		return "", err
	}
	ch, resp, err := a.api.CreateDirectChannel(ctx, me.Id, user)
	if err != nil {
		// 403: the server restricts direct messages (to team members, say); 404 or
		// 400: no such person. The outbox tells them where it can.
		return "", apiError("POST /channels/direct", resp, err)
	}
	a.dms.Remember(user, ch.Id)
	return ch.Id, nil
}

// bind remembers which post carries a reference.
func (a *Adapter) bind(ref, postID string) {
	if ref == "" || postID == "" {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.refs) >= maxRefs {
		clear(a.refs)
	}
	a.refs[ref] = postID
}

// pendingID is the pending_post_id for a delivery key: the server returns the post
// already made for a pending id it saw in the last while, instead of posting again.
func pendingID(key string) string {
	if key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("tend/mattermost/pending\x00" + key))
	return "tend:" + hex.EncodeToString(sum[:13])
}

// ephemeralID is an ephemeral post's id: derived from the delivery key, so a resend
// replaces the first one on screen rather than adding a second; random without a key.
// It has the form of a Mattermost id: 26 characters of [a-z0-9].
func ephemeralID(key string) string {
	var b []byte
	if key == "" {
		b = []byte(randomHex(16))
	} else {
		sum := sha256.Sum256([]byte("tend/mattermost/ephemeral\x00" + key))
		b = sum[:]
	}
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, 26)
	for i := range out {
		out[i] = alphabet[int(b[i%len(b)])%len(alphabet)]
	}
	return string(out)
}
