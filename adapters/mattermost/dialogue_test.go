package mattermost

import (
	"context"
	"strings"
	"testing"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// TestFormWithoutTrigger: a form asked for where Mattermost gives no trigger id (a
// mention of the bot in a channel) is walked through in the DM dialogue; the same form
// asked for with /tend opens as a dialog.
func TestFormWithoutTrigger(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := newRig(t, Config{})
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ApplyCommunity(ctx, store.CommunitySetup{
				Community:  store.Community{Slug: "mm", Name: "Hospice", Locale: "en", Timezone: "America/Toronto", RetentionDays: 30},
				Categories: []store.Category{{Key: "meal", Risk: "low", Tier: "volunteer"}},
				Bindings:   []store.Binding{{Platform: Platform, Workspace: r.team, BoardChannel: r.board, ModeratorsChannel: r.mods}},
			})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		cat, err := catalog.New()
		if err != nil {
			t.Fatal(err)
		}
		app := bot.New(bot.Options{DB: db, Catalog: cat})
		app.Attach(r.ad)
		r.connect(app)
		flush := func() {
			t.Helper()
			r.settle()
			if err := app.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		alice := r.users["alice"]
		r.command("alice", "help")
		flush()
		var accept *pressRef
		for _, s := range r.seen() {
			for _, b := range s.Buttons {
				if b.Action == flows.ActNoticeAccept && s.Where == "~"+alice {
					ref := b.Ref.(pressRef)
					accept = &ref
				}
			}
		}
		if accept == nil {
			t.Fatalf("no privacy notice for alice:\n%v", r.seen())
		}
		r.press("alice", *accept, "")
		flush()

		mark := len(r.srv.Messages())
		r.srv.Write(alice, r.board, "@tend volunteer")
		waitFor(t, "the first question in the DM", func() bool {
			for _, m := range r.srv.Messages()[mark:] {
				if m.DMUser == alice && strings.Contains(m.Text, "1/") {
					return true
				}
			}
			flush()
			return false
		})
		if r.srv.Dialogs(alice) != 0 {
			t.Fatal("a dialog opened without a trigger")
		}
		mark = len(r.srv.Messages())
		r.srv.Write(alice, "", "meal")
		waitFor(t, "the second question", func() bool {
			for _, m := range r.srv.Messages()[mark:] {
				if m.DMUser == alice && strings.Contains(m.Text, "2/") {
					return true
				}
			}
			flush()
			return false
		})

		// With /tend the form opens as a dialog instead.
		r.command("alice", "cancel")
		r.command("alice", "volunteer")
		if d, ok := r.srv.Dialog(alice); !ok || d.Dialog.CallbackId != flows.FormVolunteer {
			t.Fatalf("no dialog for /tend volunteer: %+v", d)
		}
	})
}
