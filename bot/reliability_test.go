package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// cast: alice asks, bob is a vetted ride volunteer.
func cast(t *testing.T, db *store.DB) *bottest.H {
	h := bottest.New(t, db, "en")
	h.Join("alice")
	h.Join("maya")
	h.Volunteer("bob", "ride", "any", "any")
	h.Vet("bob")
	h.Fake.Take()
	return h
}

func press(user string, b bot.RenderedButton, id string) bot.Event {
	return bot.Event{ID: id, Platform: bottest.Platform, Workspace: bottest.Workspace, UserID: user, UserName: user,
		Kind: bot.EventButton, ChannelID: bottest.Board, Action: b.Action, Payload: b.Payload}
}

// A redelivered event (a Slack retry, a Discord resume, a second replica) is handled
// once, and the second delivery gets the first one's answer.
func TestRedeliveredEventIsHandledOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := cast(t, db)
		ctx := context.Background()
		claim := h.MustButton(bottest.To(h.Ask("alice", nil), "#board"), flows.ActClaim)
		ev := press("bob", claim, "interaction-1")
		first, err := h.App.Handle(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		second, err := h.App.Handle(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		if len(first.Messages) != 1 || fmt.Sprint(first) != fmt.Sprint(second) {
			t.Fatalf("replies differ:\n%+v\n%+v", first, second)
		}
		if err := h.App.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM claims`); n != 1 {
			t.Fatalf("claims = %d, want 1", n)
		}
		gates := bottest.To(h.Fake.Take(), "@alice")
		if len(gates) != 1 {
			t.Fatalf("alice was asked %d times", len(gates))
		}
		// A refusal is remembered the same way: pressing twice with one id still answers.
		ev2 := press("alice", claim, "interaction-2")
		r1, _ := h.App.Handle(ctx, ev2)
		r2, _ := h.App.Handle(ctx, ev2)
		if fmt.Sprint(r1) != fmt.Sprint(r2) || !strings.Contains(fmt.Sprint(r1), "your own request") {
			t.Fatalf("refusal replies: %+v / %+v", r1, r2)
		}
	})
}

// A platform that fails for a while loses nothing and doubles nothing: the row waits
// with back-off and goes out once, with the same idempotency key, when the platform heals.
func TestTransientFailureRetriesLater(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := cast(t, db)
		ctx := context.Background()
		h.Fake.FailWith(func(d bot.Delivery) error { return errors.New("503 from the platform") })
		sent := h.Ask("alice", nil)
		if len(bottest.To(sent, "#board")) != 0 {
			t.Fatalf("delivered while failing:\n%s", bottest.Dump(sent))
		}
		pending := storetest.Count(t, db, `SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND attempts = 1 AND last_error <> ''`)
		if pending == 0 {
			t.Fatal("failed rows were not kept for retry")
		}
		h.Fake.FailWith(nil)
		if err := h.App.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := h.Fake.Take(); len(got) != 0 {
			t.Fatalf("retried before its back-off:\n%s", bottest.Dump(got))
		}
		h.Now = h.Now.Add(10 * time.Minute)
		if err := h.App.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := h.Fake.Take(); !bottest.Contains(bottest.To(got, "#board"), "Ride to chemotherapy") {
			t.Fatalf("not delivered after healing:\n%s", bottest.Dump(got))
		}
		for key, n := range h.Fake.Deliveries() {
			if n != 1 {
				t.Errorf("key %s delivered %d times", key, n)
			}
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM outbox WHERE state <> 'sent'`); n != 0 {
			t.Fatalf("%d rows not sent", n)
		}
	})
}

// A message that keeps failing is not retried forever: after MaxAttempts it counts as
// undeliverable and the moderators are told.
func TestRetriesEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := cast(t, db)
		ctx := context.Background()
		h.Fake.FailWith(func(d bot.Delivery) error {
			if d.To.ChannelID == bottest.Board {
				return errors.New("502 bad gateway")
			}
			return nil
		})
		h.Ask("alice", nil)
		for i := 0; i < bot.MaxAttempts+2; i++ {
			h.Now = h.Now.Add(10 * time.Minute)
			if err := h.App.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM outbox WHERE state = 'failed' AND attempts = ?`, bot.MaxAttempts); n != 1 {
			t.Fatalf("failed rows after %d attempts = %d, want 1", bot.MaxAttempts, n)
		}
		if got := bottest.To(h.Fake.History(), "#"+bottest.Moderators); !bottest.Contains(got, "could not be delivered") {
			t.Fatalf("moderators were not told:\n%s", bottest.Dump(h.Fake.History()))
		}
	})
}

// A 429 waits exactly as long as the platform asked before trying again.
func TestRateLimitIsHonoured(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := cast(t, db)
		ctx := context.Background()
		h.Fake.FailWith(func(d bot.Delivery) error {
			return &bot.RateLimitError{RetryAfter: 30 * time.Second, Bucket: "channel"}
		})
		h.Ask("alice", nil)
		h.Fake.FailWith(nil)
		h.Now = h.Now.Add(20 * time.Second)
		_ = h.App.Flush(ctx)
		if got := h.Fake.Take(); len(got) != 0 {
			t.Fatalf("sent before Retry-After:\n%s", bottest.Dump(got))
		}
		h.Now = h.Now.Add(11 * time.Second)
		_ = h.App.Flush(ctx)
		if got := h.Fake.Take(); len(bottest.To(got, "#board")) != 1 {
			t.Fatalf("not sent after Retry-After:\n%s", bottest.Dump(got))
		}
	})
}

// A global rate limit holds every message on the platform, not only the one that met it.
func TestGlobalRateLimitPausesThePlatform(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := cast(t, db)
		ctx := context.Background()
		calls := 0
		h.Fake.FailWith(func(d bot.Delivery) error {
			calls++
			return &bot.RateLimitError{RetryAfter: time.Minute}
		})
		h.Ask("alice", nil) // a board card and a DM to bob
		if calls != 1 {
			t.Fatalf("the platform was asked %d times during a global limit, want 1", calls)
		}
		h.Fake.FailWith(nil)
		h.Now = h.Now.Add(61 * time.Second)
		_ = h.App.Flush(ctx)
		if got := h.Fake.Take(); len(bottest.To(got, "#board")) != 1 || len(bottest.To(got, "@bob")) != 1 {
			t.Fatalf("after the limit:\n%s", bottest.Dump(got))
		}
	})
}

// When a direct message cannot be delivered (the person closed their DMs), the board says
// so naming only them, and a button shows it to them alone, writing a disclosure row.
func TestClosedDMsFallBackToTheBoard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := cast(t, db)
		claim := h.MustButton(bottest.To(h.Ask("alice", nil), "#board"), flows.ActClaim)
		gate := bottest.To(h.Press("bob", claim), "@alice")
		h.Fake.FailWith(func(d bot.Delivery) error {
			if d.To.Kind == bot.DestDM && d.To.UserID == "bob" {
				return fmt.Errorf("%w: 50007 cannot send messages to this user", bot.ErrPermanent)
			}
			return nil
		})
		sent := h.Press("alice", h.MustButton(gate, flows.ActAcceptShare))
		if len(bottest.To(sent, "@bob")) != 0 {
			t.Fatal("delivered to closed DMs")
		}
		notice := bottest.To(sent, "#board")
		if !bottest.Contains(notice, "Bob, I have a private message for you") {
			t.Fatalf("no board notice:\n%s", bottest.Dump(sent))
		}
		for _, s := range sent {
			if s.Public() && strings.Contains(s.Text(), "12 Rue Rachel") {
				t.Fatal("private details reached the board")
			}
		}
		show := h.MustButton(notice, bot.ActShowUndelivered)
		if got := h.Press("carol", show); !bottest.Contains(got, "isn't for you") || bottest.Contains(got, "12 Rue Rachel") {
			t.Fatalf("someone else saw bob's message:\n%s", bottest.Dump(got))
		}
		before := storetest.Count(t, db, `SELECT COUNT(*) FROM disclosures`)
		got := h.Press("bob", show)
		mine := bottest.To(got, "~bob")
		if !bottest.Contains(mine, "Address: 12 Rue Rachel Est") {
			t.Fatalf("bob could not see his message:\n%s", bottest.Dump(got))
		}
		if after := storetest.Count(t, db, `SELECT COUNT(*) FROM disclosures`); after != before+1 {
			t.Fatalf("showing it wrote %d disclosure rows, want 1", after-before)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM outbox WHERE state = 'failed'`); n != 1 {
			t.Fatalf("failed rows = %d, want 1 recorded", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM inbox WHERE reply LIKE '%Rachel%'`); n != 0 {
			t.Fatal("a reply with private details was stored in the inbox")
		}
	})
}

// When the database is unreachable, the person gets a calm answer and nothing is half
// written.
func TestDatabaseUnavailableGetsACalmAnswer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := cast(t, db)
		claim := h.MustButton(bottest.To(h.Ask("alice", nil), "#board"), flows.ActClaim)
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // a request whose deadline has already passed cannot reach the database
		reply, err := h.App.Handle(ctx, press("bob", claim, "late-1"))
		if err == nil {
			t.Fatal("no error from an unreachable database")
		}
		if !strings.Contains(fmt.Sprint(reply), "try again in a minute") && !strings.Contains(fmt.Sprint(reply), "Please try again") {
			t.Fatalf("reply: %+v", reply)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM claims`); n != 0 {
			t.Fatal("a claim was half written")
		}
		// Back to normal: the same press goes through.
		if _, err := h.App.Handle(context.Background(), press("bob", claim, "late-1")); err != nil {
			t.Fatal(err)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM claims`); n != 1 {
			t.Fatalf("claims = %d after recovery", n)
		}
	})
}

// Delivery records are pruned after a week; undelivered messages stay a month.
func TestPurgePrunesDeliveryRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := cast(t, db)
		h.Ask("alice", nil)
		inbox := storetest.Count(t, db, `SELECT COUNT(*) FROM inbox`)
		if inbox == 0 || storetest.Count(t, db, `SELECT COUNT(*) FROM outbox WHERE state = 'sent'`) == 0 {
			t.Fatal("nothing to prune")
		}
		if err := h.App.Periodic(context.Background(), "purge", "purge:now"); err != nil {
			t.Fatal(err)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM inbox WHERE platform <> 'job'`); n != inbox {
			t.Fatalf("fresh inbox rows pruned: %d of %d left", n, inbox)
		}
		h.Now = h.Now.Add(8 * 24 * time.Hour)
		if err := h.App.Periodic(context.Background(), "purge", "purge:later"); err != nil {
			t.Fatal(err)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM outbox WHERE state = 'sent'`); n != 0 {
			t.Fatalf("%d delivered rows kept past a week", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM inbox WHERE platform <> 'job'`); n != 0 {
			t.Fatalf("%d inbox rows kept past a week", n)
		}
	})
}
