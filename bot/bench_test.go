package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// Benchmarks of the hot paths, on SQLite. They report; they assert behaviour only (every
// claim made, every row sent), never timing. `tend bench` measures the whole system.

// benchCast is alice (who asks) and bob (a meal volunteer) in the harness community.
func benchCast(b *testing.B) (*bottest.H, int64, int64) {
	b.Helper()
	db := storetest.Open(b, store.SQLite)
	h := bottest.New(b, db, "en")
	h.Join("alice")
	h.Volunteer("bob", "meal", "any", "any")
	h.Fake.Take()
	var alice, bob int64
	if err := db.InTx(context.Background(), func(tx *store.Tx) error {
		a, err := tx.MemberByIdentity(context.Background(), h.Community, bottest.Platform, "alice")
		if err != nil {
			return err
		}
		v, err := tx.MemberByIdentity(context.Background(), h.Community, bottest.Platform, "bob")
		alice, bob = a.ID, v.ID
		return err
	}); err != nil {
		b.Fatal(err)
	}
	return h, alice, bob
}

func benchCount(b *testing.B, db *store.DB, q string, args ...any) int {
	b.Helper()
	var n int
	if err := db.X.Get(&n, db.X.Rebind(q), args...); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkHandleClaim is one "I can help" press through the whole event path: inbox,
// identity, router, claim flow, outbox rows (the requester's DM and the board card), the
// stored reply and the commit. Each press is on a fresh request.
func BenchmarkHandleClaim(b *testing.B) {
	h, alice, _ := benchCast(b)
	slots := h.OpenRequests(alice, b.N)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := bot.Event{ID: "claim-" + strconv.Itoa(i), Platform: bottest.Platform, Workspace: bottest.Workspace, UserID: "bob",
			UserName: "Bob", Kind: bot.EventButton, ChannelID: bottest.Board, Action: flows.ActClaim, Payload: strconv.FormatInt(slots[i], 10)}
		if _, err := h.App.Handle(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := benchCount(b, h.DB, `SELECT COUNT(*) FROM claims`); n != b.N {
		b.Fatalf("claims = %d, want %d", n, b.N)
	}
}

// BenchmarkHandleHelp is the cheapest command through the event path: inbox, identity,
// router, a flow that writes nothing, the stored reply.
func BenchmarkHandleHelp(b *testing.B) {
	h, _, _ := benchCast(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := bot.Event{ID: "help-" + strconv.Itoa(i), Platform: bottest.Platform, Workspace: bottest.Workspace, UserID: "alice",
			UserName: "Alice", Kind: bot.EventCommand, ChannelID: bottest.Board, Command: "help"}
		r, err := h.App.Handle(ctx, ev)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Messages) == 0 {
			b.Fatal("help answered nothing")
		}
	}
}

// BenchmarkFlush is the outbox's lease, render and send, per row: half direct messages,
// half board cards (each posted once, then remembered for edits).
func BenchmarkFlush(b *testing.B) {
	h, alice, _ := benchCast(b)
	ctx := context.Background()
	card := ui.Card{Title: ui.T("match.title"), Body: []ui.Text{ui.T("request.card.title", "Category", flows.CategoryLabel("meal"), "Summary", ui.UserText("Soup for two"))},
		Fields:  []ui.Field{{Label: ui.T("field.area"), Value: ui.T("value.text", "Text", ui.UserText("Rosemont"))}},
		Buttons: []ui.Button{{Label: ui.T("button.claim"), Action: flows.ActClaim, Payload: "1", Style: ui.StylePrimary}}}
	raw, err := json.Marshal(card)
	if err != nil {
		b.Fatal(err)
	}
	if err := h.DB.InTx(ctx, func(tx *store.Tx) error {
		for i := 0; i < b.N; i++ {
			row := store.OutboxRow{IdemKey: fmt.Sprintf("flush-%d", i), Platform: bottest.Platform, Workspace: bottest.Workspace, Lang: "en", Card: string(raw)}
			if i%2 == 0 {
				row.DestKind, row.UserID, row.UserName = string(bot.DestDM), "alice", "Alice"
				row.MemberID.Int64, row.MemberID.Valid = alice, true
			} else {
				row.DestKind, row.ChannelID, row.CardKey = string(bot.DestChannel), bottest.Board, fmt.Sprintf("request:%d", i)
			}
			if _, err := tx.Enqueue(ctx, row); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	if err := h.App.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if n := benchCount(b, h.DB, `SELECT COUNT(*) FROM outbox WHERE state <> 'sent'`); n != 0 {
		b.Fatalf("%d rows not sent", n)
	}
}

// BenchmarkSanitize is the sanitiser on a typical line of user text with mentions.
func BenchmarkSanitize(b *testing.B) {
	in := "Soup for two @everyone, ask <@123456789012345678> or @bob.smith — \u202eback door\u202c <!here>"
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = bot.Sanitize(in)
	}
}
