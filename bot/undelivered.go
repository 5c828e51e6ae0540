package bot

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
)

// ActShowUndelivered is the button on a board notice for someone whose direct messages
// could not be delivered: it shows them the message, to them alone.
const ActShowUndelivered = "outbox.show"

// failed records a delivery that will not succeed and makes sure someone knows: a
// direct message becomes a notice on the board naming only its reader, with a button
// that shows it to them alone; a channel message becomes a note to the moderators.
// Nothing is dropped silently and nothing private goes to a channel.
func (a *App) failed(ctx context.Context, r store.OutboxRow, cause error) error {
	a.metrics.Delivery(r.Platform, "failed")
	a.log.Warn("delivery failed for good", "outbox", r.ID, "platform", r.Platform, "dest", r.DestKind, "err", cause)
	if err := a.db.Fail(ctx, r.ID, cause.Error()); err != nil {
		return err
	}
	var ids []int64
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		b, err := tx.BindingFor(ctx, r.Platform, r.Workspace)
		if errors.Is(err, store.ErrNotFound) {
			// A message to someone setting up a space not bound yet: no board to tell.
			a.log.Warn("undelivered message to a space that is not set up", "outbox", r.ID, "platform", r.Platform)
			return nil
		}
		if err != nil {
			return err
		}
		c, err := tx.Community(ctx, b.CommunityID)
		if err != nil {
			return err
		}
		t := target{platform: r.Platform, lang: c.Locale, dest: Destination{Kind: DestChannel, Workspace: r.Workspace}}
		var card ui.Card
		switch {
		case r.DestKind == string(DestDM) && r.ChannelID == "":
			t.dest.ChannelID = b.BoardChannel
			card = ui.Card{
				Body:    []ui.Text{ui.T("delivery.dm_failed", "Name", ui.UserText(r.UserName))},
				Buttons: []ui.Button{{Label: ui.T("button.show_it"), Action: ActShowUndelivered, Payload: strconv.FormatInt(r.ID, 10)}},
			}
		case r.ChannelID != b.ModeratorsChannel && b.ModeratorsChannel != "":
			t.dest.ChannelID = b.ModeratorsChannel
			card = ui.Card{Body: []ui.Text{ui.T("delivery.channel_failed", "Channel", ui.UserText(r.ChannelID))}}
		default:
			// The moderators' channel itself is unreachable: only the log can say so.
			a.log.Error("the moderators' channel cannot be reached", "platform", r.Platform, "workspace", r.Workspace)
			return nil
		}
		id, err := a.enqueue(ctx, tx, fmt.Sprintf("undelivered/%d", r.ID), t, ui.Out{Card: card})
		ids = append(ids, id)
		return err
	})
	if err == nil {
		a.kick(ids)
	}
	return err
}

// showUndelivered shows an undelivered direct message to its reader, privately. If it
// held private details, showing them writes a disclosure row of its own.
func (a *App) showUndelivered(ctx context.Context, sc scene) (flows.Result, error) {
	id := flows.ID(sc.ev.Payload)
	r, err := a.db.OutboxRowByID(ctx, id)
	if err != nil || r.Platform != sc.ev.Platform || r.UserID != sc.ev.UserID || r.DestKind != string(DestDM) {
		return systemResult("delivery.not_yours"), nil
	}
	var card ui.Card
	if err := json.Unmarshal([]byte(r.Card), &card); err != nil {
		return flows.Result{}, fmt.Errorf("bot: outbox %d card: %w", r.ID, err)
	}
	if card.Reveal != 0 {
		shown, err := a.redisclose(ctx, card.Reveal, sc.actor.MemberID)
		if err != nil {
			return flows.Result{}, err
		}
		card.Reveal = shown
	}
	return flows.Result{Outs: []ui.Out{{To: ui.Actor(), Card: card}}}, nil
}

// redisclose writes a new disclosure row for showing private details again, to the same
// viewer on the same basis.
func (a *App) redisclose(ctx context.Context, disclosure, viewer int64) (int64, error) {
	var id int64
	err := a.inEvent(ctx, func(tx *store.Tx) error {
		d, err := viewerDisclosure(ctx, tx, disclosure, viewer)
		if err != nil {
			return err
		}
		d.Basis += "; shown in channel after an undelivered message"
		id, err = tx.AddDisclosure(ctx, d)
		return err
	})
	return id, err
}

// jitter is a uniform random number in [0, n).
func jitter(n int64) int64 {
	if n <= 0 {
		return 0
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:]) % uint64(n))
}
