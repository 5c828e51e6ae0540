package mattermost

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tend-community/tend/bot"
)

func card(text string, buttons ...bot.RenderedButton) bot.Rendered {
	return bot.Rendered{Title: "Ride to chemotherapy", Body: []string{text}, Buttons: buttons}
}

func TestSendPlaces(t *testing.T) {
	r := newRig(t, Config{}, withEphemeral)
	ctx := context.Background()
	alice := r.users["alice"]
	claim := bot.RenderedButton{Label: "I can help", Action: "claim", Payload: "12", Style: "primary"}

	id, err := r.ad.Send(ctx, bot.Delivery{To: bot.Destination{Kind: bot.DestChannel, Workspace: r.team, ChannelID: r.board},
		Msg: card("Thursday 13:00", claim), Key: "outbox/1"})
	if err != nil || id == "" {
		t.Fatalf("channel: %q, %v", id, err)
	}
	p, ok := r.srv.Post(id)
	if !ok || !strings.Contains(p.Message, "**Ride to chemotherapy**") || p.GetProp(propRef) != keyRef("outbox/1") {
		t.Fatalf("board post: %+v", p)
	}
	if p.GetProp("mentionHighlightDisabled") != true || p.GetProp("disable_group_highlight") != true {
		t.Errorf("board post is not quiet: %v", p.GetProps())
	}
	acts := p.Attachments()
	if len(acts) != 1 || len(acts[0].Actions) != 1 || acts[0].Actions[0].Style != "primary" ||
		acts[0].Actions[0].Integration.URL != r.tend.URL+PathAction {
		t.Fatalf("actions: %+v", acts)
	}

	// A resend of the same delivery (a crash before the id was recorded) is absorbed.
	again, err := r.ad.Send(ctx, bot.Delivery{To: bot.Destination{Kind: bot.DestChannel, Workspace: r.team, ChannelID: r.board},
		Msg: card("Thursday 13:00", claim), Key: "outbox/1"})
	if err != nil || again != id {
		t.Fatalf("resend made %q (first %q), %v", again, id, err)
	}

	dm, err := r.ad.Send(ctx, bot.Delivery{To: bot.Destination{Kind: bot.DestDM, Workspace: r.team, UserID: alice}, Msg: card("12 Rue Rachel"), Key: "outbox/2"})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := r.srv.Post(dm); p == nil || p.ChannelId != r.srv.DMChannel(alice) {
		t.Fatalf("DM went to %v", p)
	}
	// The DM channel is opened once.
	if _, err := r.ad.Send(ctx, bot.Delivery{To: bot.Destination{Kind: bot.DestDM, UserID: alice}, Msg: card("again"), Key: "outbox/3"}); err != nil {
		t.Fatal(err)
	}
	if n := r.srv.Count("POST /channels/direct", 201); n != 1 {
		t.Errorf("direct channel opened %d times", n)
	}

	eph, err := r.ad.Send(ctx, bot.Delivery{To: bot.Destination{Kind: bot.DestEphemeral, Workspace: r.team, ChannelID: r.board, UserID: alice},
		Msg: card("only you", claim), Key: "outbox/4"})
	if err != nil || eph != ephemeralID("outbox/4") {
		t.Fatalf("ephemeral: %q, %v", eph, err)
	}
	msgs := r.srv.Messages()
	if last := msgs[len(msgs)-1]; last.EphemeralTo != alice || last.PostID != eph {
		t.Fatalf("ephemeral seen as %+v", last)
	}
	if ref, _ := msgs[len(msgs)-1].Actions[0].Context[ctxRef].(string); ref != userRef(alice, r.board) {
		t.Errorf("an ephemeral post's buttons are bound to %q", ref)
	}
}

// TestEphemeralWithoutPermission: a bot that may not post ephemeral messages (the
// server's default for a member) sends them as direct messages, and asks only once.
func TestEphemeralWithoutPermission(t *testing.T) {
	r := newRig(t, Config{})
	ctx := context.Background()
	alice := r.users["alice"]
	for i := 0; i < 2; i++ {
		id, err := r.ad.Send(ctx, bot.Delivery{To: bot.Destination{Kind: bot.DestEphemeral, Workspace: r.team, ChannelID: r.board, UserID: alice},
			Msg: card("only you"), Key: fmt.Sprintf("e/%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := r.srv.Post(id); !ok || p.ChannelId != r.srv.DMChannel(alice) {
			t.Fatalf("sent to %+v", p)
		}
	}
	if n := r.srv.Count("POST /posts/ephemeral", 403); n != 1 {
		t.Errorf("the refused ephemeral post was tried %d times", n)
	}
}

func TestEditKeepsReference(t *testing.T) {
	r := newRig(t, Config{})
	ctx := context.Background()
	to := bot.Destination{Kind: bot.DestChannel, Workspace: r.team, ChannelID: r.board}
	id, err := r.ad.Send(ctx, bot.Delivery{To: to, Msg: card("open", bot.RenderedButton{Label: "I can help", Action: "claim", Payload: "1"}), Key: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ad.Edit(ctx, bot.Delivery{To: to, Msg: card("matched"), Key: "k2"}, id); err != nil {
		t.Fatal(err)
	}
	p, _ := r.srv.Post(id)
	if !strings.Contains(p.Message, "matched") || p.GetProp(propRef) != keyRef("k1") || len(p.Attachments()) != 0 {
		t.Fatalf("edited post: %q %v", p.Message, p.GetProps())
	}
	if err := r.ad.Edit(ctx, bot.Delivery{To: to, Msg: card("x")}, ""); !errors.Is(err, bot.ErrPermanent) {
		t.Errorf("edit without an id: %v", err)
	}
	if err := r.ad.Edit(ctx, bot.Delivery{To: to, Msg: card("x")}, "nosuchpost0000000000000000"); !errors.Is(err, bot.ErrPermanent) {
		t.Errorf("edit of a missing post: %v", err)
	}
}

func TestSendErrors(t *testing.T) {
	r := newRig(t, Config{})
	ctx := context.Background()
	board := bot.Destination{Kind: bot.DestChannel, Workspace: r.team, ChannelID: r.board}

	r.srv.RateLimit("POST /posts", 1, 7)
	_, err := r.ad.Send(ctx, bot.Delivery{To: board, Msg: card("x"), Key: "a"})
	var rl *bot.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second || rl.Bucket != "" {
		t.Fatalf("429: %v", err)
	}
	// Only X-Ratelimit-Reset.
	r.srv.Fail("POST /posts", 1, http.StatusTooManyRequests, http.Header{"X-Ratelimit-Reset": {"3"}, "X-Ratelimit-Remaining": {"0"}})
	if _, err := r.ad.Send(ctx, bot.Delivery{To: board, Msg: card("x"), Key: "b"}); !errors.As(err, &rl) || rl.RetryAfter != 3*time.Second {
		t.Fatalf("429 with the reset only: %v", err)
	}
	if _, err := r.ad.Send(ctx, bot.Delivery{To: board, Msg: card("x"), Key: "c"}); err != nil {
		t.Fatalf("after the limit: %v", err)
	}

	for _, tc := range []struct {
		status    int
		permanent bool
	}{{403, true}, {404, true}, {400, true}, {500, false}, {502, false}, {401, false}} {
		r.srv.Fail("POST /posts", 1, tc.status, nil)
		_, err := r.ad.Send(ctx, bot.Delivery{To: board, Msg: card("x"), Key: "s"})
		if err == nil || errors.Is(err, bot.ErrPermanent) != tc.permanent {
			t.Errorf("HTTP %d: %v (permanent %v)", tc.status, err, errors.Is(err, bot.ErrPermanent))
		}
	}
	// A channel the bot is not in.
	if _, err := r.ad.Send(ctx, bot.Delivery{To: bot.Destination{Kind: bot.DestChannel, ChannelID: "nochannel00000000000000000a"}, Msg: card("x")}); !errors.Is(err, bot.ErrPermanent) {
		t.Errorf("unknown channel: %v", err)
	}
	// Someone the server will not open a direct channel with.
	if _, err := r.ad.Send(ctx, bot.Delivery{To: bot.Destination{Kind: bot.DestDM, UserID: "nobody000000000000000000000"}, Msg: card("x")}); !errors.Is(err, bot.ErrPermanent) {
		t.Errorf("unknown person: %v", err)
	}
	if _, err := r.ad.Send(ctx, bot.Delivery{To: bot.Destination{Kind: bot.DestChannel}, Msg: card("x")}); !errors.Is(err, bot.ErrPermanent) {
		t.Errorf("no channel: %v", err)
	}
}

func TestUserTextCannotPing(t *testing.T) {
	r := newRig(t, Config{})
	ctx := context.Background()
	msg := bot.Rendered{Title: "@channel", Body: []string{"Hi @all and @here, @bob and @care-team; [my bank](https://evil.example) ![x](https://evil.example/i.png)"},
		Fields:  []bot.RenderedField{{Label: "Note", Value: "[ref]: https://evil.example"}},
		Buttons: []bot.RenderedButton{{Label: "@here press", Action: "a", Payload: "1"}}}
	id, err := r.ad.Send(ctx, bot.Delivery{To: bot.Destination{Kind: bot.DestChannel, Workspace: r.team, ChannelID: r.board}, Msg: msg})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := r.srv.Post(id)
	for _, bad := range []string{"@channel", "@all", "@here", "@bob", "@care-team", "](", "]:"} {
		if strings.Contains(p.Message, bad) {
			t.Errorf("the post still has %q: %q", bad, p.Message)
		}
	}
	if strings.ReplaceAll(p.Message, zwsp, "") != "**@channel**\nHi @all and @here, @bob and @care-team; [my bank](https://evil.example) ![x](https://evil.example/i.png)\n**Note:** [ref]: https://evil.example" {
		t.Errorf("the words changed: %q", p.Message)
	}
}
