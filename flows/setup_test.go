package flows_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// in sends an event from a workspace other than the harness's, as a platform
// administrator or not.
func in(h *bottest.H, user, ws string, admin bool, ev bot.Event) []bottest.Sent {
	h.T.Helper()
	ev.Workspace, ev.PlatformAdmin = ws, admin
	if ev.ChannelID == "" && !ev.InDM {
		ev.ChannelID = "general"
	}
	return h.Event(user, ev)
}

// setupRows is everything that makes a community, ids and times left out.
func setupRows(t *testing.T, db *store.DB, community int64) string {
	t.Helper()
	var slug string
	if err := db.X.Get(&slug, db.X.Rebind(`SELECT slug FROM communities WHERE id = ?`), community); err != nil {
		t.Fatal(err)
	}
	return storetest.CommunityRows(t, db, slug)
}

func communityBySlug(t *testing.T, db *store.DB, slug string) int64 {
	t.Helper()
	var id int64
	if err := db.X.Get(&id, db.X.Rebind(`SELECT id FROM communities WHERE slug = ?`), slug); err != nil {
		t.Fatalf("community %s: %v", slug, err)
	}
	return id
}

func TestSetupNewCommunityInTheDialogue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := bottest.New(t, db, "en")
		sent := in(h, "olivia", "ws2", true, bot.Event{Kind: bot.EventCommand, Command: "setup"})
		start := h.MustButton(sent, flows.ActSetupNew)
		if start.Payload != "general" || !bottest.Contains(sent, "This channel will be the board") {
			t.Fatalf("setup's first card:\n%s", bottest.Dump(sent))
		}
		sent = in(h, "olivia", "ws2", true, bot.Event{Kind: bot.EventButton, Action: start.Action, Payload: start.Payload})
		if !bottest.Contains(bottest.To(sent, "@olivia"), "(1/6) Community name") {
			t.Fatalf("the form did not move to olivia's DMs:\n%s", bottest.Dump(sent))
		}
		dm := func(text string) []bottest.Sent {
			return in(h, "olivia", "ws2", true, bot.Event{Kind: bot.EventText, Text: text, InDM: true})
		}
		for _, a := range []string{"Voisins de Rosemont", "2", "Mars/Olympus", "CA-QC", "skip", "Maya Tremblay <privacy@example.org>"} {
			sent = dm(a)
		}
		if !bottest.Contains(sent, "Time zone: “Mars/Olympus” isn't a time zone I know") {
			t.Fatalf("a bad time zone was not asked again:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM communities`); n != 1 {
			t.Fatalf("a refused answer created a community (%d)", n)
		}
		sent = dm("Montréal")
		if !bottest.Contains(sent, "Voisins de Rosemont is ready", "/tend setup moderators") {
			t.Fatalf("setup's end:\n%s", bottest.Dump(sent))
		}
		if !bottest.Contains(bottest.To(sent, "#general"), "Voisins de Rosemont utilise tend") {
			t.Fatalf("no hello on the new board:\n%s", bottest.Dump(sent))
		}
		id := communityBySlug(t, db, "voisins-de-rosemont")
		rows := setupRows(t, db, id)
		for _, want := range []string{"voisins-de-rosemont Voisins de Rosemont fr America/Toronto CA-QC 30 Maya Tremblay <privacy@example.org> edited",
			"visit home vetted 3 2", "fake ws2 general  \n", "fake olivia"} {
			if !strings.Contains(rows, want) {
				t.Errorf("rows lack %q:\n%s", want, rows)
			}
		}
		var actions []string
		if err := db.X.Select(&actions, db.X.Rebind(`SELECT action FROM audit_log WHERE community_id = ? ORDER BY id`), id); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(actions, ","); got != "settings.community.create,settings.space.bind,settings.moderator.add" {
			t.Fatalf("audit: %s", got)
		}

		// Until the moderators' channel is chosen, their notices reach olivia directly.
		join := func(user string) {
			sent := in(h, user, "ws2", false, bot.Event{Kind: bot.EventCommand, Command: "help"})
			in(h, user, "ws2", false, bot.Event{Kind: bot.EventButton, Action: flows.ActNoticeAccept, Payload: h.MustButton(sent, flows.ActNoticeAccept).Payload})
		}
		join("paul")
		sent = in(h, "paul", "ws2", false, bot.Event{Kind: bot.EventCommand, Command: "worried", Args: []string{"<@sam>", "safety"}})
		if !bottest.Contains(bottest.To(sent, "@olivia"), "Dossier no") {
			t.Fatalf("the case did not reach olivia by DM:\n%s", bottest.Dump(sent))
		}
		sent = in(h, "paul", "ws2", false, bot.Event{Kind: bot.EventCommand, Command: "setup", Args: []string{"moderators"}, ChannelID: "mods2"})
		if !bottest.Contains(sent, "Les réglages sont réservés") {
			t.Fatalf("a member chose the moderators' channel:\n%s", bottest.Dump(sent))
		}
		sent = in(h, "olivia", "ws2", false, bot.Event{Kind: bot.EventCommand, Command: "configurer", Args: []string{"modérateurs"}, ChannelID: "mods2"})
		if !bottest.Contains(sent, "Ce salon est maintenant celui de l'équipe de modération") {
			t.Fatalf("set the moderators' channel:\n%s", bottest.Dump(sent))
		}
		join("rita")
		sent = in(h, "rita", "ws2", false, bot.Event{Kind: bot.EventCommand, Command: "worried", Args: []string{"<@tom>", "health"}})
		if !bottest.Contains(bottest.To(sent, "#mods2"), "Dossier no") || len(bottest.To(sent, "@olivia")) != 0 {
			t.Fatalf("the case did not go to the moderators' channel:\n%s", bottest.Dump(sent))
		}
		// The first community was not touched.
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM community_moderators WHERE community_id = ?`, h.Community); n != 0 {
			t.Fatalf("the harness community got %d moderators", n)
		}
	})
}

func TestSetupOnlyForPlatformAdmins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := bottest.New(t, db, "en")
		general := map[string]string{"name": "Sneaky", "locale": "en", "timezone": "UTC", "region": "none"}
		tries := []struct {
			name string
			ev   bot.Event
			want string
		}{
			{"command", bot.Event{Kind: bot.EventCommand, Command: "setup"}, "Only an administrator of this space"},
			{"forged button", bot.Event{Kind: bot.EventButton, Action: flows.ActSetupNew, Payload: "general"}, "Only an administrator"},
			{"forged form", bot.Event{Kind: bot.EventForm, FormID: flows.FormSetupNew, FormPayload: "general", Values: general}, "Only an administrator"},
			{"forged join", bot.Event{Kind: bot.EventForm, FormID: flows.FormSetupJoin, FormPayload: "general", Values: map[string]string{"code": "AAAA-BBBB-CCCC-DDDD"}}, "Only an administrator"},
			{"another command", bot.Event{Kind: bot.EventCommand, Command: "ask"}, "isn't set up for tend yet"},
			{"settings", bot.Event{Kind: bot.EventCommand, Command: "settings"}, "isn't set up for tend yet"},
		}
		for _, tt := range tries {
			t.Run(tt.name, func(t *testing.T) {
				if sent := in(h, "mallory", "ws2", false, tt.ev); !bottest.Contains(sent, tt.want) {
					t.Fatalf("%s:\n%s", tt.name, bottest.Dump(sent))
				}
			})
		}
		sent := in(h, "olivia", "ws2", true, bot.Event{Kind: bot.EventCommand, Command: "setup", InDM: true})
		if !bottest.Contains(sent, "not in a direct message") {
			t.Fatalf("setup in a DM:\n%s", bottest.Dump(sent))
		}
		sent = in(h, "olivia", "ws2", true, bot.Event{Kind: bot.EventCommand, Command: "setup", Args: []string{"moderators"}})
		if !bottest.Contains(sent, "First type /tend setup in the channel meant for requests") {
			t.Fatalf("setup moderators first:\n%s", bottest.Dump(sent))
		}
		for q, want := range map[string]int{
			`SELECT COUNT(*) FROM communities`: 1, `SELECT COUNT(*) FROM space_bindings WHERE workspace = 'ws2'`: 0,
			`SELECT COUNT(*) FROM community_moderators`: 0, `SELECT COUNT(*) FROM dialogues`: 0, `SELECT COUNT(*) FROM audit_log`: 0,
		} {
			if n := storetest.Count(t, db, q); n != want {
				t.Errorf("%s = %d, want %d", q, n, want)
			}
		}
	})
}

var codeRE = regexp.MustCompile(`[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}`)

// invite has maya (a moderator of the harness community) make a join code.
func invite(t *testing.T, h *bottest.H) string {
	t.Helper()
	sent := h.PressAction("maya", flows.ActSettingsInvite, "")
	code := codeRE.FindString(bottest.Dump(sent))
	if code == "" || len(sent) != 1 || !sent[0].Reply {
		t.Fatalf("no code in the answer:\n%s", bottest.Dump(sent))
	}
	return code
}

func TestJoinCode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := bottest.New(t, db, "en")
		join := func(ws, code string) []bottest.Sent {
			return in(h, "quinn", ws, true, bot.Event{Kind: bot.EventForm, FormID: flows.FormSetupJoin, FormPayload: "general",
				Values: map[string]string{"code": code}})
		}
		refused := func(ws, code string) {
			t.Helper()
			if sent := join(ws, code); !bottest.Contains(sent, "That code doesn't work") {
				t.Fatalf("code %q in %s was not refused:\n%s", code, ws, bottest.Dump(sent))
			}
			if n := storetest.Count(t, db, `SELECT COUNT(*) FROM space_bindings WHERE workspace = ?`, ws); n != 0 {
				t.Fatalf("refused code bound %s", ws)
			}
		}
		wrong := func(code string) string { // the same code with its last group changed
			last := "2345"
			if strings.HasSuffix(code, last) {
				last = "6789"
			}
			return code[:15] + last
		}

		code := invite(t, h)
		for _, secret := range []string{code[5:], strings.ReplaceAll(code[5:], "-", "")} {
			like := "%" + secret + "%"
			for _, q := range []string{`SELECT COUNT(*) FROM inbox WHERE reply LIKE ?`, `SELECT COUNT(*) FROM audit_log WHERE detail LIKE ? OR subject LIKE ?`,
				`SELECT COUNT(*) FROM join_codes WHERE secret_hash LIKE ? OR lookup LIKE ?`, `SELECT COUNT(*) FROM outbox WHERE card LIKE ?`} {
				args := []any{like}
				if strings.Count(q, "?") == 2 {
					args = append(args, like)
				}
				if n := storetest.Count(t, db, q, args...); n != 0 {
					t.Fatalf("the code's secret is stored in clear: %s", q)
				}
			}
		}
		refused("ws3", "hello")
		refused("ws3", wrong(code))
		if n := storetest.Count(t, db, `SELECT tries FROM join_codes`); n != 1 {
			t.Fatalf("a wrong try was not counted: %d", n)
		}
		sent := join("ws3", strings.ToLower(strings.ReplaceAll(code, "-", " ")))
		if !bottest.Contains(sent, "This space is now part of Test Neighbours") {
			t.Fatalf("a good code was refused:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM space_bindings WHERE workspace = 'ws3' AND community_id = ? AND board_channel = 'general'`, h.Community); n != 1 {
			t.Fatal("ws3 is not bound to the community")
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM community_moderators WHERE community_id = ? AND platform_user_id = 'quinn'`, h.Community); n != 1 {
			t.Fatal("the joining administrator is not a moderator")
		}
		refused("ws4", code) // single use

		code = invite(t, h)
		h.Now = h.Now.Add(store.JoinCodeTTL + time.Minute)
		refused("ws5", code) // expired

		code = invite(t, h)
		for i := 0; i < store.JoinCodeTries; i++ {
			refused("ws6", wrong(code))
		}
		refused("ws6", code) // burnt
	})
}
