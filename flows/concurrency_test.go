package flows_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// TestThousandVolunteersPressAtOnce: 1,000 volunteers press "I can help" on one
// single-slot request at the same moment. Exactly one claim is made; everyone else is
// thanked and told it is taken; nobody sees an error.
func TestThousandVolunteersPressAtOnce(t *testing.T) {
	const n = 1000
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := bottest.New(t, db, "en")
		h.Join("alice")
		ctx := context.Background()
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			for i := 0; i < n; i++ {
				m, _, err := tx.CreateMember(ctx, h.Community, bottest.Platform, fmt.Sprintf("v%d", i), fmt.Sprintf("V%d", i), "", flows.NoticeVersion, store.Evidence{Surface: "test"})
				if err != nil {
					return err
				}
				// Availability "mon" keeps the 1,000 out of the Thursday request's notices.
				if _, err := tx.SaveVolunteerProfile(ctx, store.VolunteerProfile{MemberID: m.ID, Categories: "meal", Areas: "any", Availability: "mon"}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		claim := h.MustButton(bottest.To(h.Ask("alice", map[string]string{"category": "meal", "summary": "Soup for two"}), "#board"), flows.ActClaim)

		start := make(chan struct{})
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				user := fmt.Sprintf("v%d", i)
				ev := bot.Event{ID: "press-" + user, Platform: bottest.Platform, Workspace: bottest.Workspace,
					UserID: user, UserName: user, Kind: bot.EventButton, ChannelID: bottest.Board, Action: claim.Action, Payload: claim.Payload}
				reply, err := h.App.Handle(ctx, ev)
				h.Fake.Reply(ev, reply)
				errs <- err
			}(i)
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("a presser got an error: %v", err)
			}
		}
		if err := h.App.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		thanked, taken := 0, 0
		for _, s := range h.Fake.Take() {
			if !strings.HasPrefix(bottest.Where(s), "~v") {
				continue
			}
			switch txt := s.Text(); {
			case strings.Contains(txt, "We've asked Alice to confirm"):
				thanked++
			case strings.Contains(txt, "Someone else is already helping"):
				taken++
			default:
				t.Fatalf("unexpected answer to a presser: %q", txt)
			}
		}
		if thanked != 1 || taken != n-1 {
			t.Fatalf("thanked %d and told taken %d; want 1 and %d", thanked, taken, n-1)
		}
		if c := storetest.Count(t, db, `SELECT COUNT(*) FROM claims`); c != 1 {
			t.Fatalf("claims = %d, want 1", c)
		}
		if c := storetest.Count(t, db, `SELECT taken FROM slots`); c != 1 {
			t.Fatalf("slot taken = %d, want 1", c)
		}
	})
}
