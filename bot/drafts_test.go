package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// parts is the fake adapter with forms that come in parts, as Discord's modals do.
type parts struct{ *bottest.Fake }

func (parts) CanOpenForms() bool { return true }
func (parts) FormsInParts() bool { return true }

type partsRun struct {
	t  *testing.T
	h  *bottest.H
	n  int
	db *store.DB
}

func (r *partsRun) handle(user string, ev bot.Event) bot.Reply {
	r.t.Helper()
	r.n++
	ev.ID = fmt.Sprintf("part-%d", r.n)
	ev.Platform, ev.UserID, ev.UserName = bottest.Platform, user, user
	if ev.Workspace == "" && !ev.InDM {
		ev.Workspace = bottest.Workspace
	}
	if ev.ChannelID == "" && !ev.InDM {
		ev.ChannelID = bottest.Board
	}
	ctx := context.Background()
	reply, err := r.h.App.Handle(ctx, ev)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.h.App.Flush(ctx); err != nil {
		r.t.Fatal(err)
	}
	return reply
}

func (r *partsRun) part(user string, partial bool, values map[string]string) bot.Reply {
	r.t.Helper()
	return r.handle(user, bot.Event{Kind: bot.EventForm, FormID: flows.FormAsk, Values: values, Partial: partial})
}

func replyText(r bot.Reply) string {
	var b strings.Builder
	for _, m := range r.Messages {
		b.WriteString(m.Title + " " + strings.Join(m.Body, " ") + "\n")
	}
	return b.String()
}

// A form answered in parts keeps its answers sealed between the parts, matches choices
// typed as text, submits once at the last part, and lets the person fix what the flow
// refused without typing the rest again.
func TestFormInParts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := cast(t, db)
		h.App.Attach(parts{h.Fake})
		r := &partsRun{t: t, h: h, db: db}

		open := r.handle("alice", bot.Event{Kind: bot.EventCommand, Command: "ask"})
		if open.Form == nil || open.Form.ID != flows.FormAsk {
			t.Fatalf("no form: %+v", open)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM dialogues WHERE step = -1`); n != 1 {
			t.Fatalf("drafts = %d, want 1", n)
		}
		if got := r.part("alice", true, map[string]string{"category": "1", "when": "thursday 13:00", "until": "16:00", "area": "Rosemont", "summary": "Ride to the clinic"}); len(got.Messages)+len(got.FieldErrors) != 0 {
			t.Fatalf("first part answered: %+v", got)
		}
		if got := r.part("alice", true, map[string]string{"address": "12 Rue Rachel Est", "phone": "514-555-0199", "notes": "Walker", "show_name": "", "may_share": "perhaps"}); got.FieldErrors["may_share"] == "" || !strings.Contains(got.FieldErrors["may_share"], "Yes") {
			t.Fatalf("a choice nobody offered was taken: %+v", got)
		}
		// The sealed draft holds no private detail in clear.
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM dialogues WHERE form LIKE '%Rachel%'`); n != 0 {
			t.Fatal("an address is in the draft's clear text")
		}
		resumed := r.handle("alice", bot.Event{Kind: bot.EventButton, Action: bot.ActResumeForm})
		if resumed.Form == nil {
			t.Fatalf("resume gave no form: %+v", resumed)
		}
		for _, f := range resumed.Form.Fields {
			switch f.Name {
			case "category":
				if f.Default != "ride" {
					t.Errorf("category default = %q, want ride", f.Default)
				}
			case "address", "phone", "notes":
				if f.Default != "" {
					t.Errorf("private %s echoed back: %q", f.Name, f.Default)
				}
			}
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM requests`); n != 0 {
			t.Fatalf("requests before the last part = %d", n)
		}
		// The last part: may_share typed as its label.
		done := r.part("alice", false, map[string]string{"may_share": "yes", "follow_up": ""})
		if len(done.FieldErrors) != 0 {
			t.Fatalf("last part refused: %+v", done)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM requests`); n != 1 {
			t.Fatalf("requests = %d, want 1", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM dialogues`); n != 0 {
			t.Fatal("the draft outlived the form")
		}
		// The same last part again (a second press, a replayed modal) creates nothing.
		again := r.part("alice", false, map[string]string{"may_share": "yes"})
		if !strings.Contains(replyText(again), "no longer open") {
			t.Fatalf("a form sent twice: %s", replyText(again))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM requests`); n != 1 {
			t.Fatalf("requests = %d after a replay, want 1", n)
		}
	})
}

// What the flow refuses at the last part stays in the draft for the person to fix.
func TestFormInPartsFix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := cast(t, db)
		h.App.Attach(parts{h.Fake})
		r := &partsRun{t: t, h: h, db: db}
		r.handle("alice", bot.Event{Kind: bot.EventCommand, Command: "ask"})
		r.part("alice", true, map[string]string{"category": "Ride", "when": "yesterday", "area": "Rosemont", "summary": "Ride"})
		got := r.part("alice", false, map[string]string{"may_share": "no"})
		if got.FieldErrors["when"] == "" {
			t.Fatalf("a past date was taken: %+v", got)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM dialogues WHERE step = -1`); n != 1 {
			t.Fatal("the draft was lost on a refusal")
		}
		// DM text does not answer a draft.
		if dm := r.handle("alice", bot.Event{Kind: bot.EventText, Text: "thursday 13:00", InDM: true, ChannelID: "dm-alice", Workspace: bottest.Workspace}); !strings.Contains(replyText(dm), "not waiting") {
			t.Fatalf("DM text answered a draft: %s", replyText(dm))
		}
		fixed := r.part("alice", false, map[string]string{"when": "thursday 13:00"})
		if len(fixed.FieldErrors) != 0 {
			t.Fatalf("fix refused: %+v", fixed)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM requests WHERE category = 'ride'`); n != 1 {
			t.Fatalf("requests = %d, want 1", n)
		}
	})
}

// A direct message whose platform names no workspace finds the person's community; a
// stranger is told kindly where to start.
func TestDirectMessageWithoutWorkspace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := cast(t, db)
		r := &partsRun{t: t, h: h, db: db}
		known := r.handle("alice", bot.Event{Kind: bot.EventCommand, Command: "mine", InDM: true, ChannelID: "dm-alice"})
		if strings.Contains(replyText(known), "don't know") || strings.Contains(replyText(known), "isn't set up") {
			t.Fatalf("a member's DM was not placed: %s", replyText(known))
		}
		stranger := r.handle("zoe", bot.Event{Kind: bot.EventText, Text: "hello", InDM: true, ChannelID: "dm-zoe"})
		if !strings.Contains(replyText(stranger), "don't know which community") {
			t.Fatalf("stranger got: %s", replyText(stranger))
		}
	})
}
