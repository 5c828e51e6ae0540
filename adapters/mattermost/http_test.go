package mattermost

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/tend-community/tend/adapters/mattermost/mattermosttest"
	"github.com/tend-community/tend/bot"
)

// recorder is a bot that records the events it gets and answers with a fixed reply.
type recorder struct {
	mu     sync.Mutex
	events []bot.Event
	reply  func(ev bot.Event) bot.Reply
}

func (h *recorder) Handle(_ context.Context, ev bot.Event) (bot.Reply, error) {
	h.mu.Lock()
	h.events = append(h.events, ev)
	h.mu.Unlock()
	if h.reply != nil {
		return h.reply(ev), nil
	}
	return bot.Reply{Messages: []bot.Rendered{{Body: []string{"ok"}}}}, nil
}

func (h *recorder) got() []bot.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]bot.Event(nil), h.events...)
}

// commandForm is a valid slash command request from alice in the board channel.
func (r *rig) commandForm(text string) (url.Values, string) {
	cmds, _, err := r.ad.api.ListCommands(context.Background(), r.team, true)
	if err != nil || len(cmds) != 1 {
		r.t.Fatalf("commands: %v %v", cmds, err)
	}
	return url.Values{"channel_id": {r.board}, "channel_name": {"board"}, "command": {"/tend"}, "team_id": {r.team},
		"text": {text}, "token": {cmds[0].Token}, "trigger_id": {"trigger-" + text}, "user_id": {r.users["alice"]},
		"user_name": {"alice"}}, cmds[0].Token
}

func TestCommandToken(t *testing.T) {
	r := newRig(t, Config{})
	h := &recorder{}
	r.serve(h)
	good, token := r.commandForm("help")
	target := r.tend.URL + PathCommand
	with := func(field, header string) url.Values {
		f := url.Values{}
		for k, v := range good {
			f[k] = v
		}
		if field == "" {
			f.Del("token")
		} else {
			f.Set("token", field)
		}
		return f
	}
	for _, tc := range []struct {
		name          string
		field, header string
	}{
		{"no token", "", ""},
		{"wrong field", "wrongtoken0000000000000000", ""},
		{"wrong header", token, "Token wrongtoken0000000000000000"},
		{"header without the scheme", "", token},
		{"bearer scheme", "", "Bearer " + token},
		{"right header, wrong field", "wrongtoken0000000000000000", "Token " + token},
		{"a prefix of the token", token[:10], ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			header := http.Header{}
			if tc.header != "" {
				header.Set("Authorization", tc.header)
			}
			ans, err := r.srv.CommandWith(target, with(tc.field, tc.header), header)
			if err != nil || ans.Status != http.StatusUnauthorized {
				t.Fatalf("HTTP %d, %v", ans.Status, err)
			}
		})
	}
	if n := len(h.got()); n != 0 {
		t.Fatalf("refused commands reached the bot %d times", n)
	}
	if n := len(r.srv.Messages()); n != 0 {
		t.Fatalf("refused commands posted %d messages", n)
	}
	for _, header := range []string{"", "Token " + token} {
		ans, err := r.srv.CommandWith(target, good, http.Header{"Authorization": {header}})
		if err != nil || ans.Status != http.StatusOK {
			t.Fatalf("good command (header %q): HTTP %d, %v", header, ans.Status, err)
		}
	}
	evs := h.got()
	if len(evs) != 2 || evs[0].Kind != bot.EventCommand || evs[0].Command != "help" || evs[0].ID != evs[1].ID ||
		!strings.HasPrefix(evs[0].ID, idCommand) || evs[0].Workspace != r.team || evs[0].UserName != "Alice" {
		t.Fatalf("events: %+v", evs)
	}
}

func TestCommandPlatformAdmin(t *testing.T) {
	r := newRig(t, Config{})
	h := &recorder{}
	r.serve(h)
	root := r.srv.AddUser(mattermosttest.User{Username: "root", SystemAdmin: true, Locale: "fr"})
	r.srv.AddMember(r.team, root.ID, false)
	for _, who := range []string{"alice", "maya", "root"} {
		id := r.users[who]
		if who == "root" {
			id = root.ID
		}
		if _, err := r.srv.Command(id, r.board, "setup"); err != nil {
			t.Fatal(err)
		}
	}
	evs := h.got()
	if len(evs) != 3 || evs[0].PlatformAdmin || !evs[1].PlatformAdmin || !evs[2].PlatformAdmin || evs[2].Locale != "fr" {
		t.Fatalf("admins: %+v", evs)
	}
}

// boardButton sends a card with a claim button to the board and returns what a press
// carries: the post and its action.
func (r *rig) boardButton(key string) (string, mattermosttest.Action) {
	r.t.Helper()
	id, err := r.ad.Send(context.Background(), bot.Delivery{To: bot.Destination{Kind: bot.DestChannel, Workspace: r.team, ChannelID: r.board},
		Msg: card("open", bot.RenderedButton{Label: "I can help", Action: "claim", Payload: "12"}), Key: key})
	if err != nil {
		r.t.Fatal(err)
	}
	msgs := r.srv.Messages()
	return id, msgs[len(msgs)-1].Actions[0]
}

func TestActionForgeries(t *testing.T) {
	r := newRig(t, Config{})
	h := &recorder{reply: func(bot.Event) bot.Reply { return bot.Reply{} }}
	r.serve(h)
	post, act := r.boardButton("outbox/9")
	other, _ := r.boardButton("outbox/10")
	before := len(r.srv.Messages())
	request := func(postID string, ctx map[string]any) model.PostActionIntegrationRequest {
		return model.PostActionIntegrationRequest{UserId: r.users["bob"], UserName: "bob", ChannelId: r.board, ChannelName: "board",
			TeamId: r.team, PostId: postID, TriggerId: "t-" + postID, Type: "button", Context: ctx}
	}
	edited := func(k string, v any) map[string]any {
		c := map[string]any{}
		for key, val := range act.Context {
			c[key] = val
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	for _, tc := range []struct {
		name string
		req  model.PostActionIntegrationRequest
	}{
		{"no context", request(post, nil)},
		{"unsigned", request(post, edited(ctxSig, nil))},
		{"another action", request(post, edited(ctxAction, "cancel"))},
		{"another payload", request(post, edited(ctxPayload, "13"))},
		{"another workspace", request(post, edited(ctxWorkspace, "someteam00000000000000000a"))},
		{"signed with another secret", request(post, (signer{keys: [][]byte{[]byte("not-the-secret-not-the-secret-xx")}}).actionContext(
			action{kind: kindButton, workspace: r.team, action: "claim", payload: "12", ref: keyRef("outbox/9")}))},
		{"replayed onto another post", request(other, act.Context)},
		{"replayed onto an ephemeral id", request(ephemeralID("outbox/9"), act.Context)},
		{"another reference", request(post, edited(ctxRef, postRef(other)))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ans, err := r.srv.Action(r.tend.URL+PathAction, tc.req)
			if err != nil || ans.Status != http.StatusUnauthorized {
				t.Fatalf("HTTP %d, %v", ans.Status, err)
			}
		})
	}
	if n := len(h.got()); n != 0 {
		t.Fatalf("forged presses reached the bot %d times", n)
	}
	if n := len(r.srv.Messages()); n != before {
		t.Fatalf("forged presses changed what people see (%d messages, %d before)", n, before)
	}

	// The real press works, on this replica and on one that did not send the post.
	if ans, err := r.srv.Press(r.users["bob"], post, act.ID, "", nil); err != nil || ans.Status != http.StatusOK {
		t.Fatalf("press: HTTP %d, %v", ans.Status, err)
	}
	fresh, err := New(r.ad.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.ad = fresh
	if ans, err := r.srv.Press(r.users["carol"], post, act.ID, "", nil); err != nil || ans.Status != http.StatusOK {
		t.Fatalf("press on another replica: HTTP %d, %v", ans.Status, err)
	}
	if ans, _ := r.srv.Action(r.tend.URL+PathAction, request(other, act.Context)); ans.Status != http.StatusUnauthorized {
		t.Fatalf("replay on another replica: HTTP %d", ans.Status)
	}
	evs := h.got()
	if len(evs) != 2 || evs[0].Action != "claim" || evs[0].Payload != "12" || evs[0].MessageID != post || evs[1].UserID != r.users["carol"] {
		t.Fatalf("events: %+v", evs)
	}
}

func TestActionSecretRotation(t *testing.T) {
	r := newRig(t, Config{})
	h := &recorder{reply: func(bot.Event) bot.Reply { return bot.Reply{} }}
	r.serve(h)
	post, act := r.boardButton("outbox/1")
	cfg := r.ad.cfg
	cfg.ActionSecret, cfg.OldActionSecrets = []byte("the-new-secret-the-new-secret-012345"), [][]byte{testSecret}
	rotated, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.ad = rotated
	if ans, err := r.srv.Press(r.users["bob"], post, act.ID, "", nil); err != nil || ans.Status != http.StatusOK {
		t.Fatalf("a button signed before the rotation: HTTP %d, %v", ans.Status, err)
	}
	cfg.OldActionSecrets = nil
	if r.ad, err = New(cfg, nil); err != nil {
		t.Fatal(err)
	}
	if ans, _ := r.srv.Press(r.users["bob"], post, act.ID, "", nil); ans.Status != http.StatusUnauthorized {
		t.Fatalf("an old button without the old secret: HTTP %d", ans.Status)
	}
}

func TestChoiceMenu(t *testing.T) {
	r := newRig(t, Config{})
	h := &recorder{reply: func(bot.Event) bot.Reply { return bot.Reply{} }}
	r.serve(h)
	msg := bot.Rendered{Body: []string{"Which day?"}, Choice: &bot.RenderedChoice{Action: "day", Placeholder: "Pick a day",
		Options: []bot.RenderedOption{{Label: "Monday", Value: "mon"}, {Label: "Tuesday", Value: "tue"}}}}
	id, err := r.ad.Send(context.Background(), bot.Delivery{To: bot.Destination{Kind: bot.DestDM, Workspace: r.team, UserID: r.users["bob"]}, Msg: msg, Key: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := r.srv.Messages()
	sel := msgs[len(msgs)-1].Actions[0]
	if sel.Type != "select" || len(sel.Options) != 2 {
		t.Fatalf("menu: %+v", sel)
	}
	if ans, err := r.srv.Press(r.users["bob"], id, sel.ID, "tue", nil); err != nil || ans.Status != http.StatusOK {
		t.Fatalf("pick: HTTP %d, %v", ans.Status, err)
	}
	evs := h.got()
	if len(evs) != 1 || evs[0].Action != "day" || evs[0].Value != "tue" || evs[0].Payload != "" || !evs[0].InDM || evs[0].Workspace != r.team {
		t.Fatalf("events: %+v", evs)
	}
}

func TestDialogStateForgeries(t *testing.T) {
	r := newRig(t, Config{})
	form := bot.RenderedForm{ID: "ask", Payload: "p1", Title: "Ask for help", Fields: []bot.RenderedFormField{
		{Name: "summary", Kind: "text", Label: "Summary", Required: true, MaxLen: 80},
		{Name: "when", Kind: "datetime", Label: "When", Help: "thursday 13:00", Required: true},
	}}
	h := &recorder{reply: func(ev bot.Event) bot.Reply {
		if ev.Kind == bot.EventCommand {
			return bot.Reply{Form: &form}
		}
		if ev.Values["summary"] == "bad" {
			return bot.Reply{FieldErrors: map[string]string{"summary": "Say a little more, @here"}}
		}
		return bot.Reply{Messages: []bot.Rendered{{Body: []string{"Thanks"}}}}
	}}
	r.serve(h)
	r.command("alice", "ask")
	d, ok := r.srv.Dialog(r.users["alice"])
	if !ok || d.Dialog.CallbackId != "ask" || d.URL != r.tend.URL+PathDialog || len(d.Dialog.Elements) != 2 {
		t.Fatalf("dialog: %+v", d)
	}
	sub := model.SubmitDialogRequest{Type: "dialog_submission", CallbackId: "ask", State: d.Dialog.State, UserId: r.users["alice"],
		ChannelId: r.board, TeamId: r.team, Submission: map[string]any{"summary": "Ride", "when": "thursday 13:00"}}
	st, _ := r.ad.sign.decodeState(d.Dialog.State)
	st.Payload = "p2"
	forged := r.ad.sign.encodeState(st)
	body, _, _ := strings.Cut(forged, ".")
	for _, tc := range []struct {
		name string
		edit func(*model.SubmitDialogRequest)
	}{
		{"no state", func(s *model.SubmitDialogRequest) { s.State = "" }},
		{"unsigned state", func(s *model.SubmitDialogRequest) { s.State = body }},
		{"state of another payload", func(s *model.SubmitDialogRequest) { s.State = body + "." + strings.Repeat("0", 64) }},
		{"another person", func(s *model.SubmitDialogRequest) { s.UserId = r.users["bob"] }},
		{"another form", func(s *model.SubmitDialogRequest) { s.CallbackId = "volunteer" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sub
			tc.edit(&s)
			_, ans, err := r.srv.SubmitWith(d.URL, s)
			if err != nil || ans.Status != http.StatusUnauthorized {
				t.Fatalf("HTTP %d, %v", ans.Status, err)
			}
		})
	}
	if n := len(h.got()); n != 1 {
		t.Fatalf("forged submissions reached the bot: %d events", n)
	}
	// Bad values come back as field errors, the dialog staying open; good ones close it.
	resp, ans, err := r.srv.Submit(r.users["alice"], r.board, map[string]string{"summary": "bad", "when": "thursday 13:00"})
	if err != nil || ans.Status != http.StatusOK || !strings.HasPrefix(resp.Errors["summary"], "Say a little more, @"+zwsp) {
		t.Fatalf("field errors: %+v %v", resp, err)
	}
	resp, _, err = r.srv.Submit(r.users["alice"], r.board, map[string]string{"summary": "Ride", "when": "thursday 13:00"})
	if err != nil || len(resp.Errors) != 0 {
		t.Fatalf("good answers: %+v %v", resp, err)
	}
	evs := h.got()
	if len(evs) != 3 || evs[2].Kind != bot.EventForm || evs[2].FormID != "ask" || evs[2].FormPayload != "p1" ||
		evs[2].Values["summary"] != "Ride" || evs[1].ID == evs[2].ID || !strings.HasPrefix(evs[2].ID, idDialog) {
		t.Fatalf("events: %+v", evs)
	}
	// The same submission delivered twice is one event.
	if _, _, err := r.srv.SubmitWith(d.URL, sub); err != nil {
		t.Fatal(err)
	}
	if evs := h.got(); evs[3].ID != evs[2].ID {
		t.Errorf("a repeated submission has a new id: %s, %s", evs[3].ID, evs[2].ID)
	}
	msgs := r.srv.Messages()
	if last := msgs[len(msgs)-1]; last.DMUser != r.users["alice"] || last.Text != "Thanks" {
		t.Errorf("the answer to the dialog (the bot may not post ephemeral messages): %+v", last)
	}
}

func TestExpiredTriggerGivesAFormButton(t *testing.T) {
	r := newRig(t, Config{})
	form := bot.RenderedForm{ID: "offer", Title: "Offer help", Fields: []bot.RenderedFormField{{Name: "what", Kind: "longtext", Label: "What", Required: true}}}
	h := &recorder{reply: func(ev bot.Event) bot.Reply { return bot.Reply{Form: &form} }}
	r.serve(h)
	r.srv.ExpireTriggers(true)
	if _, err := r.srv.Command(r.users["alice"], r.board, "offer"); err != nil {
		t.Fatal(err)
	}
	if r.srv.Dialogs(r.users["alice"]) != 0 {
		t.Fatal("a dialog opened with an expired trigger")
	}
	msgs := r.srv.Messages()
	last := msgs[len(msgs)-1]
	if last.EphemeralTo != r.users["alice"] || !strings.Contains(last.Text, "Offer help") || len(last.Actions) != 1 {
		t.Fatalf("no button to open the form: %+v", last)
	}
	r.srv.ExpireTriggers(false)
	if ans, err := r.srv.Press(r.users["alice"], last.PostID, last.Actions[0].ID, "", nil); err != nil || ans.Status != http.StatusOK {
		t.Fatalf("press: HTTP %d, %v", ans.Status, err)
	}
	d, ok := r.srv.Dialog(r.users["alice"])
	if !ok || d.Dialog.CallbackId != "offer" || d.Dialog.Elements[0].Type != "textarea" {
		t.Fatalf("the button did not open the form: %+v", d)
	}
	if n := len(h.got()); n != 1 {
		t.Errorf("the form button went to the bot: %d events", n)
	}
}

// TestAnswersInTheResponse: a bot that may not post ephemeral messages answers a slash
// command in the command's response (buttons included) and a press with ephemeral text;
// the buttons are bound to the person and channel they were shown to.
func TestAnswersInTheResponse(t *testing.T) {
	r := newRig(t, Config{})
	h := &recorder{reply: func(ev bot.Event) bot.Reply {
		if ev.Kind == bot.EventCommand {
			return bot.Reply{Messages: []bot.Rendered{
				{Body: []string{"Privacy notice <https://evil.example|your bank>"}, Buttons: []bot.RenderedButton{{Label: "I agree", Action: "notice.accept", Payload: "v1"}}},
				{Body: []string{"second"}},
			}}
		}
		return bot.Reply{Messages: []bot.Rendered{{Body: []string{"Welcome"}}}}
	}}
	r.serve(h)
	r.command("alice", "help")
	msgs := r.srv.Messages()
	if len(msgs) != 2 || msgs[0].EphemeralTo != r.users["alice"] || msgs[1].EphemeralTo != r.users["alice"] || len(msgs[0].Actions) != 1 {
		t.Fatalf("the command's answers: %+v", msgs)
	}
	notice := msgs[0]
	if ref, _ := notice.Actions[0].Context[ctxRef].(string); ref != userRef(r.users["alice"], r.board) {
		t.Fatalf("bound to %q", ref)
	}
	// Someone else sending alice's button is refused.
	req := model.PostActionIntegrationRequest{UserId: r.users["bob"], ChannelId: r.board, ChannelName: "board", TeamId: r.team,
		PostId: notice.PostID, TriggerId: "t1", Context: notice.Actions[0].Context}
	if ans, _ := r.srv.Action(r.tend.URL+PathAction, req); ans.Status != http.StatusUnauthorized {
		t.Fatalf("bob pressing alice's button: HTTP %d", ans.Status)
	}
	req.UserId, req.ChannelId = r.users["alice"], r.mods
	if ans, _ := r.srv.Action(r.tend.URL+PathAction, req); ans.Status != http.StatusUnauthorized {
		t.Fatalf("alice's button sent from another channel: HTTP %d", ans.Status)
	}
	if ans, err := r.srv.Press(r.users["alice"], notice.PostID, notice.Actions[0].ID, "", nil); err != nil || ans.Status != http.StatusOK {
		t.Fatalf("alice presses: HTTP %d, %v", ans.Status, err)
	}
	msgs = r.srv.Messages()
	if last := msgs[len(msgs)-1]; last.EphemeralTo != r.users["alice"] || last.Text != "Welcome" {
		t.Fatalf("the press's answer: %+v", last)
	}
	if evs := h.got(); len(evs) != 2 || evs[1].Action != "notice.accept" {
		t.Fatalf("events: %+v", evs)
	}
}

// TestCommandRegisteredLater: a replica started before "tend mattermost register" ran
// reads the new command's token when its first request comes.
func TestCommandRegisteredLater(t *testing.T) {
	r := newRig(t, Config{}) // registers with its own adapter
	h := &recorder{}
	r.serve(h)
	fresh, err := New(r.ad.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.KnowsCommandTokens() {
		t.Fatal("a fresh adapter knows a token")
	}
	r.ad = fresh
	r.command("alice", "help")
	good, _ := r.commandForm("help")
	good.Set("token", "wrongtoken0000000000000000")
	before := r.srv.Count("GET /commands", 200)
	if ans, _ := r.srv.CommandWith(r.tend.URL+PathCommand, good, nil); ans.Status != http.StatusUnauthorized {
		t.Fatalf("a wrong token: HTTP %d", ans.Status)
	}
	if n := r.srv.Count("GET /commands", 200); n != before {
		t.Errorf("a wrong token read the commands again at once (%d reads)", n-before)
	}
	if n := len(h.got()); n != 1 {
		t.Fatalf("%d events", n)
	}
}
