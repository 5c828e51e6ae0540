package slack

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tend-community/tend/bot"
)

func TestSendToChannelPostsBlocksAndFallback(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeSocket, nil)
	msg := bot.Rendered{Title: "Ride to the clinic", Body: []string{"Thursday 14:00", "Near the park"},
		Buttons: []bot.RenderedButton{{Label: "I can help", Action: "claim", Payload: "12", Style: "primary"}}}
	id, err := a.Send(context.Background(), bot.Delivery{To: bot.Destination{Kind: bot.DestChannel, ChannelID: "C1"}, Msg: msg, Key: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	cs := f.callsTo("chat.postMessage")
	if len(cs) != 1 {
		t.Fatalf("chat.postMessage called %d times", len(cs))
	}
	c := cs[0]
	if id == "" || !strings.HasPrefix(id, "1700000000.") {
		t.Errorf("message id %q, want the ts", id)
	}
	if c.Form.Get("channel") != "C1" {
		t.Errorf("channel %q", c.Form.Get("channel"))
	}
	if c.Form.Get("token") != "xoxb-test" {
		t.Errorf("token not sent as documented")
	}
	if got := c.Form.Get("text"); got != "Ride to the clinic\nThursday 14:00" {
		t.Errorf("fallback text %q", got)
	}
	if c.Form.Get("unfurl_links") != "false" || c.Form.Get("unfurl_media") != "false" {
		t.Errorf("links would unfurl: %v", c.Form)
	}
	for k := range c.Form {
		if strings.Contains(strings.ToLower(k), "key") || strings.Contains(c.Form.Get(k), "k1") && k != "blocks" {
			t.Errorf("idempotency key passed on in %s", k)
		}
	}
	bs := c.blocks(t)
	if len(bs) != 3 {
		t.Fatalf("blocks %v", bs)
	}
	if bs[0]["type"] != "header" || bs[1]["type"] != "section" || bs[2]["type"] != "actions" {
		t.Errorf("block types %v %v %v", bs[0]["type"], bs[1]["type"], bs[2]["type"])
	}
	sec := bs[1]["text"].(map[string]any)
	if sec["type"] != "mrkdwn" || sec["text"] != "Thursday 14:00\nNear the park" || sec["verbatim"] != true {
		t.Errorf("section %v", sec)
	}
	btn := bs[2]["elements"].([]any)[0].(map[string]any)
	if btn["action_id"] != "claim" || btn["value"] != "12" || btn["style"] != "primary" {
		t.Errorf("button %v", btn)
	}
}

func TestSendDMOpensTheConversationOnce(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeSocket, nil)
	d := bot.Delivery{To: bot.Destination{Kind: bot.DestDM, UserID: "U7"}, Msg: card("Your helper", "Bob will drive you")}
	for range 2 {
		if _, err := a.Send(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	opens := f.callsTo("conversations.open")
	if len(opens) != 1 || opens[0].Form.Get("users") != "U7" {
		t.Fatalf("conversations.open calls %+v, want one for U7", opens)
	}
	posts := f.callsTo("chat.postMessage")
	if len(posts) != 2 {
		t.Fatalf("%d posts", len(posts))
	}
	for _, p := range posts {
		if p.Form.Get("channel") != "DU7" {
			t.Errorf("posted to %q, want the DM channel DU7", p.Form.Get("channel"))
		}
	}
}

func TestSendEphemeral(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeSocket, nil)
	id, err := a.Send(context.Background(), bot.Delivery{To: bot.Destination{Kind: bot.DestEphemeral, ChannelID: "C1", UserID: "U1"}, Msg: card("", "Only you can see this")})
	if err != nil {
		t.Fatal(err)
	}
	cs := f.callsTo("chat.postEphemeral")
	if len(cs) != 1 || cs[0].Form.Get("channel") != "C1" || cs[0].Form.Get("user") != "U1" {
		t.Fatalf("chat.postEphemeral calls %+v", cs)
	}
	if id == "" {
		t.Error("no message_ts returned")
	}
}

func TestEditUpdatesInPlace(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeSocket, nil)
	err := a.Edit(context.Background(), bot.Delivery{To: bot.Destination{Kind: bot.DestChannel, ChannelID: "C1"}, Msg: card("Ride — matched")}, "1700000000.000001")
	if err != nil {
		t.Fatal(err)
	}
	cs := f.callsTo("chat.update")
	if len(cs) != 1 || cs[0].Form.Get("channel") != "C1" || cs[0].Form.Get("ts") != "1700000000.000001" {
		t.Fatalf("chat.update calls %+v", cs)
	}
	if bs := cs[0].blocks(t); len(bs) != 1 || bs[0]["type"] != "header" {
		t.Errorf("blocks %v", bs)
	}

	// A DM card has no channel in the outbox: the DM is opened to find it.
	if err := a.Edit(context.Background(), bot.Delivery{To: bot.Destination{Kind: bot.DestDM, UserID: "U2"}, Msg: card("x")}, "1700000000.000009"); err != nil {
		t.Fatal(err)
	}
	if cs := f.callsTo("chat.update"); len(cs) != 2 || cs[1].Form.Get("channel") != "DU2" {
		t.Fatalf("DM edit went to %+v", cs)
	}
	if err := a.Edit(context.Background(), bot.Delivery{To: bot.Destination{Kind: bot.DestChannel, ChannelID: "C1"}}, ""); !errors.Is(err, bot.ErrPermanent) {
		t.Errorf("edit without an id: %v", err)
	}
}

func TestRateLimitBecomesRateLimitError(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeSocket, nil)
	f.on("chat.postMessage", func(w http.ResponseWriter, _ call) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"ok":false,"error":"ratelimited"}`))
	})
	_, err := a.Send(context.Background(), bot.Delivery{To: bot.Destination{Kind: bot.DestChannel, ChannelID: "C1"}, Msg: card("x")})
	var rl *bot.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("err %v, want a RateLimitError", err)
	}
	if rl.RetryAfter != 7*time.Second || rl.Bucket != "chat.postMessage" {
		t.Errorf("rate limit %+v", rl)
	}
	if errors.Is(err, bot.ErrPermanent) {
		t.Error("a rate limit is not permanent")
	}
}

func TestErrorsMapToPermanentOrTransient(t *testing.T) {
	cases := []struct {
		method, code string
		kind         bot.DestKind
		permanent    bool
	}{
		{"chat.postMessage", "channel_not_found", bot.DestChannel, true},
		{"chat.postMessage", "not_in_channel", bot.DestChannel, true},
		{"chat.postMessage", "is_archived", bot.DestChannel, true},
		{"chat.postMessage", "token_revoked", bot.DestChannel, true},
		{"chat.postMessage", "messages_tab_disabled", bot.DestDM, true},
		{"conversations.open", "cannot_dm_bot", bot.DestDM, true},
		{"conversations.open", "user_disabled", bot.DestDM, true},
		{"chat.postEphemeral", "user_not_in_channel", bot.DestEphemeral, true},
		{"chat.postMessage", "internal_error", bot.DestChannel, false},
		{"chat.postMessage", "fatal_error", bot.DestChannel, false},
	}
	for _, tc := range cases {
		t.Run(tc.method+"/"+tc.code, func(t *testing.T) {
			f := newFakeAPI(t)
			a := newTestAdapter(t, f, ModeSocket, nil)
			f.on(tc.method, slackError(tc.code))
			_, err := a.Send(context.Background(), bot.Delivery{To: bot.Destination{Kind: tc.kind, ChannelID: "C1", UserID: "U1"}, Msg: card("x")})
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, bot.ErrPermanent); got != tc.permanent {
				t.Errorf("permanent = %v, want %v (%v)", got, tc.permanent, err)
			}
			if !strings.Contains(err.Error(), tc.code) {
				t.Errorf("error %q does not name Slack's code", err)
			}
		})
	}
	t.Run("server error is transient", func(t *testing.T) {
		f := newFakeAPI(t)
		a := newTestAdapter(t, f, ModeSocket, nil)
		f.on("chat.postMessage", func(w http.ResponseWriter, _ call) { w.WriteHeader(http.StatusServiceUnavailable) })
		_, err := a.Send(context.Background(), bot.Delivery{To: bot.Destination{Kind: bot.DestChannel, ChannelID: "C1"}, Msg: card("x")})
		var rl *bot.RateLimitError
		if err == nil || errors.Is(err, bot.ErrPermanent) || errors.As(err, &rl) {
			t.Errorf("err %v, want a transient error", err)
		}
	})
}

func TestClosedDMIsForgotten(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeSocket, nil)
	d := bot.Delivery{To: bot.Destination{Kind: bot.DestDM, UserID: "U3"}, Msg: card("x")}
	f.on("chat.postMessage", slackError("messages_tab_disabled"))
	if _, err := a.Send(context.Background(), d); !errors.Is(err, bot.ErrPermanent) {
		t.Fatalf("err %v", err)
	}
	f.on("chat.postMessage", nil)
	if _, err := a.Send(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if n := len(f.callsTo("conversations.open")); n != 2 {
		t.Errorf("conversations.open called %d times; a refused DM should be opened again", n)
	}
}
