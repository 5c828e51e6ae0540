package flows_test

import (
	"bytes"
	"context"
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

var codePattern = regexp.MustCompile(`Your code: ([0-9A-Z]{4}-[0-9A-Z]{4})`)

// on keeps the messages that went out on one platform to one place ("@alice").
func on(sent []bottest.Sent, platform, where string) []bottest.Sent {
	var out []bottest.Sent
	for _, s := range bottest.To(sent, where) {
		if s.Platform == platform {
			out = append(out, s)
		}
	}
	return out
}

// linkCode asks for a code as user on the first platform and reads it from the direct
// message there, checking that it went nowhere else.
func linkCode(t *testing.T, h *bottest.H, user string) string {
	t.Helper()
	sent := h.Command(user, "link")
	dm := on(sent, bottest.Platform, "@"+user)
	if len(dm) != 1 {
		t.Fatalf("the code was not sent by direct message on %s:\n%s", bottest.Platform, bottest.Dump(sent))
	}
	m := codePattern.FindStringSubmatch(dm[0].Text())
	if m == nil {
		t.Fatalf("no code in:\n%s", bottest.Dump(dm))
	}
	for _, s := range sent {
		if s.Dest.Kind != bot.DestDM && strings.Contains(s.Text(), m[1]) {
			t.Fatalf("the code reached %s", bottest.Where(s))
		}
	}
	return m[1]
}

func identityMember(t *testing.T, db *store.DB, platform, user string) int64 {
	t.Helper()
	return int64(storetest.Count(t, db, `SELECT COALESCE(MAX(member_id), 0) FROM identities WHERE platform = ? AND platform_user_id = ?`, platform, user))
}

func TestLinkAccountsMergesHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		p2 := bottest.Platform2
		h.AddPlatform()
		h.Ask("alice", map[string]string{"summary": "Ride from Discord"})
		h.Submit("alice", flows.FormVolunteer, "", map[string]string{"categories": "call", "areas": "any", "days": "any"})
		// The same person on the second platform is already a member with a history.
		h.JoinOn(p2, "U-alice")
		h.EventOn(p2, "U-alice", bot.Event{Kind: bot.EventForm, FormID: flows.FormVolunteer,
			Values: map[string]string{"categories": "meal, groceries", "areas": "Rosemont, Villeray", "days": "mon, tue"}})
		h.EventOn(p2, "U-alice", bot.Event{Kind: bot.EventForm, FormID: flows.FormAsk, Values: map[string]string{"category": "meal",
			"when": "friday 12:00", "area": "Villeray", "summary": "Soup from Slack", "address": "9 Rue Secrète"}})
		h.Fake.Take()
		h.Second.Take()
		alice, other := memberID(t, db, "alice"), identityMember(t, db, p2, "U-alice")
		if alice == 0 || other == 0 || alice == other {
			t.Fatalf("members %d and %d", alice, other)
		}

		code := linkCode(t, h, "alice")
		dump := storetest.Dump(t, db)
		for _, form := range []string{code, strings.ReplaceAll(code, "-", "")} {
			if bytes.Contains(dump, []byte(form)) {
				t.Fatalf("the code %q is stored in clear", form)
			}
		}
		if sent := h.CommandOn(p2, "U-alice", "link", "ZZZZ-ZZZZ"); !bottest.Contains(sent, "That code didn't work") {
			t.Fatalf("wrong code:\n%s", bottest.Dump(sent))
		}
		if sent := h.Command("alice", "link", code); !bottest.Contains(sent, "made for this very account") {
			t.Fatalf("code typed on its own account:\n%s", bottest.Dump(sent))
		}

		// Typed on the other platform: that account is asked to confirm, the first hears of it.
		sent := h.CommandOn(p2, "U-alice", "link", strings.ToLower(code))
		confirm := on(sent, p2, "~U-alice")
		if !bottest.Contains(confirm, "Link this account to Alice's?", "[Link these accounts]", "everything it holds") {
			t.Fatalf("confirmation on the second platform:\n%s", bottest.Dump(sent))
		}
		if !bottest.Contains(on(sent, bottest.Platform, "@alice"), "Your code was typed on fake2", "[Stop]") {
			t.Fatalf("the first account was not told:\n%s", bottest.Dump(sent))
		}
		// Single use: the same code again, by anyone, does nothing.
		h.JoinOn(p2, "mallory")
		if sent := h.CommandOn(p2, "mallory", "link", code); !bottest.Contains(sent, "That code didn't work") {
			t.Fatalf("a used code worked again:\n%s", bottest.Dump(sent))
		}
		if sent := h.PressOn(p2, "mallory", h.MustButton(confirm, flows.ActLinkConfirm)); !bottest.Contains(sent, "isn't yours") {
			t.Fatalf("mallory confirming:\n%s", bottest.Dump(sent))
		}

		sent = h.PressOn(p2, "U-alice", h.MustButton(confirm, flows.ActLinkConfirm))
		if !bottest.Contains(on(sent, p2, "~U-alice"), "Accounts linked", "now one member", "kept the fuller one, from this account", "doesn't carry roles across") {
			t.Fatalf("done on the second platform:\n%s", bottest.Dump(sent))
		}
		if !bottest.Contains(on(sent, bottest.Platform, "@alice"), "Accounts linked", "fake2 is now linked") {
			t.Fatalf("done on the first platform:\n%s", bottest.Dump(sent))
		}
		if got := identityMember(t, db, p2, "U-alice"); got != alice {
			t.Fatalf("the second account belongs to member %d, want %d", got, alice)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM members WHERE id = ?`, other); n != 0 {
			t.Fatal("the merged member is still there")
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM requests WHERE requester_id = ?`, alice); n != 2 {
			t.Fatalf("requests of the linked member = %d, want 2", n)
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM volunteer_profiles WHERE member_id = ? AND areas = 'rosemont,villeray'`, alice); n != 1 {
			t.Fatal("the fuller volunteer profile was not kept")
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM member_links WHERE member_id = ? AND merged_member_id = ? AND profile_kept = 'from'`, alice, other); n != 1 {
			t.Fatal("no link row")
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'member.linked' AND subject = ?`, "member:"+flows.Ref(alice)); n != 1 {
			t.Fatal("no audit row for the link")
		}
		// One member now, from either platform.
		for _, p := range []string{bottest.Platform, p2} {
			user := map[string]string{bottest.Platform: "alice", p2: "U-alice"}[p]
			mine := h.CommandOn(p, user, "mine")
			if !bottest.Contains(mine, "Open requests: 2") || !bottest.Contains(mine, "2 linked accounts", "doesn't carry roles across") {
				t.Fatalf("mine on %s:\n%s", p, bottest.Dump(mine))
			}
		}
		if sent := h.CommandOn(p2, "U-alice", "link", code); !bottest.Contains(sent, "That code didn't work") {
			t.Fatalf("the code worked after linking:\n%s", bottest.Dump(sent))
		}

		// Unlinking the second account: one press; it is a newcomer again, the history stays.
		list := h.Command("alice", "unlink")
		if !bottest.Contains(list, "Unlink this account: fake", "Unlink fake2 (U-alice)", "stays with your other accounts") {
			t.Fatalf("unlink list:\n%s", bottest.Dump(list))
		}
		var second bot.RenderedButton
		for _, s := range list {
			for _, b := range s.Msg.Buttons {
				if b.Action == flows.ActUnlink && strings.HasPrefix(b.Payload, p2+":") {
					second = b
				}
			}
		}
		sent = h.Press("alice", second)
		if !bottest.Contains(sent, "Unlinked: fake2 (U-alice)", "newcomer again") {
			t.Fatalf("unlink:\n%s", bottest.Dump(sent))
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'member.unlinked'`); n != 1 {
			t.Fatal("no audit row for the unlink")
		}
		if sent := h.CommandOn(p2, "U-alice", "mine"); !bottest.Contains(sent, "Nothing about you is kept until you accept") {
			t.Fatalf("the unlinked account is not a newcomer:\n%s", bottest.Dump(sent))
		}
		h.JoinOn(p2, "U-alice")
		if fresh := identityMember(t, db, p2, "U-alice"); fresh == alice || fresh == other {
			t.Fatalf("the unlinked account joined as member %d, want a fresh one", fresh)
		}
		if mine := h.CommandOn(p2, "U-alice", "mine"); !bottest.Contains(mine, "Open requests: 0") {
			t.Fatalf("the fresh member took history along:\n%s", bottest.Dump(mine))
		}
		if mine := h.Command("alice", "mine"); !bottest.Contains(mine, "Open requests: 2") || bottest.Contains(mine, "linked accounts") {
			t.Fatalf("the original member after unlinking:\n%s", bottest.Dump(mine))
		}
		if sent := h.Command("alice", "unlink"); !bottest.Contains(sent, "isn't linked to another one") {
			t.Fatalf("unlink with one account:\n%s", bottest.Dump(sent))
		}
	})
}

func TestLinkCodeIsSingleUseAndExpires(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := setup(t, db)
		p2 := bottest.Platform2
		h.AddPlatform()
		links := func() int { return storetest.Count(t, db, `SELECT COUNT(*) FROM identities WHERE platform = ?`, p2) }

		// Expired: ten minutes on the store's clock.
		code := linkCode(t, h, "alice")
		h.Now = h.Now.Add(flows.LinkCodeTTL + time.Second)
		if sent := h.CommandOn(p2, "U-alice", "link", code); !bottest.Contains(sent, "That code didn't work") {
			t.Fatalf("an expired code:\n%s", bottest.Dump(sent))
		}

		// A new code ends the old one: at most one on its way.
		first := linkCode(t, h, "alice")
		code = linkCode(t, h, "alice")
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM link_codes WHERE state IN ('pending', 'entered')`); n != 1 {
			t.Fatalf("codes on their way = %d, want 1", n)
		}
		if first != code {
			if sent := h.CommandOn(p2, "U-alice", "link", first); !bottest.Contains(sent, "That code didn't work") {
				t.Fatalf("a replaced code:\n%s", bottest.Dump(sent))
			}
		}

		// Wrong tries burn the code waiting in the community, with no hint.
		for i := 0; i < flows.LinkCodeAttempts; i++ {
			if sent := h.CommandOn(p2, "U-mallory", "link", "0000-000"+string(rune('A'+i))); !bottest.Contains(sent, "That code didn't work") {
				t.Fatalf("wrong try %d:\n%s", i, bottest.Dump(sent))
			}
		}
		if n := storetest.Count(t, db, `SELECT COUNT(*) FROM link_codes WHERE state = 'burnt' AND code_ct IS NULL`); n != 1 {
			t.Fatalf("burnt codes = %d after %d wrong tries, want 1", n, flows.LinkCodeAttempts)
		}
		if sent := h.CommandOn(p2, "U-alice", "link", code); !bottest.Contains(sent, "That code didn't work") {
			t.Fatalf("a burnt code:\n%s", bottest.Dump(sent))
		}

		// Stopped from the first account after it was typed: confirming does nothing.
		code = linkCode(t, h, "alice")
		sent := h.CommandOn(p2, "U-alice", "link", code)
		confirm := h.MustButton(on(sent, p2, "~U-alice"), flows.ActLinkConfirm)
		h.Press("alice", h.MustButton(on(sent, bottest.Platform, "@alice"), flows.ActLinkStop))
		if sent := h.PressOn(p2, "U-alice", confirm); !bottest.Contains(sent, "was stopped or has expired") {
			t.Fatalf("confirming a stopped link:\n%s", bottest.Dump(sent))
		}

		// Confirming too late.
		code = linkCode(t, h, "alice")
		confirm = h.MustButton(on(h.CommandOn(p2, "U-alice", "link", code), p2, "~U-alice"), flows.ActLinkConfirm)
		h.Now = h.Now.Add(flows.LinkCodeTTL + time.Second)
		if sent := h.PressOn(p2, "U-alice", confirm); !bottest.Contains(sent, "That code didn't work") {
			t.Fatalf("a late confirmation:\n%s", bottest.Dump(sent))
		}
		if n := links(); n != 0 {
			t.Fatalf("%d accounts were linked by refused codes", n)
		}

		// Another community's code is refused kindly.
		code = linkCode(t, h, "alice")
		ctx := context.Background()
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ApplyCommunity(ctx, store.CommunitySetup{
				Community:  store.Community{Slug: "elsewhere", Name: "Elsewhere", Locale: "en", Timezone: "UTC", RetentionDays: 30},
				Categories: []store.Category{{Key: "ride", Tier: "member"}},
				Bindings:   []store.Binding{{Platform: p2, Workspace: "ws9", BoardChannel: "b", ModeratorsChannel: "m"}},
			})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := h.Deliver(ctx, bot.Event{ID: "elsewhere-1", Platform: p2, Workspace: "ws9", UserID: "U-alice", ChannelID: "b",
			Kind: bot.EventCommand, Command: "link", Args: []string{code}}); err != nil {
			t.Fatal(err)
		}
		if sent := h.Second.Take(); !bottest.Contains(sent, "belongs to another community") {
			t.Fatalf("a code from another community:\n%s", bottest.Dump(sent))
		}
		if n := links(); n != 0 {
			t.Fatal("an account was linked across communities")
		}
		// The code still works where it belongs.
		confirm = h.MustButton(on(h.CommandOn(p2, "U-alice", "link", code), p2, "~U-alice"), flows.ActLinkConfirm)
		h.PressOn(p2, "U-alice", confirm)
		if n := links(); n != 1 {
			t.Fatal("the right code in the right community did not link")
		}
		if sent := h.CommandOn(p2, "U-alice", "link", linkCode(t, h, "alice")); !bottest.Contains(sent, "already linked") {
			t.Fatalf("linking an account to itself:\n%s", bottest.Dump(sent))
		}
	})
}
