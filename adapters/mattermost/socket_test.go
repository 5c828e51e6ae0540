package mattermost

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/tend-community/tend/bot"
)

// eventsSoFar waits until the bot got n events and nothing is being handled.
func (r *rig) eventsSoFar(h *recorder, n int) []bot.Event {
	r.t.Helper()
	waitFor(r.t, "events", func() bool { return len(h.got()) >= n })
	r.settle()
	return h.got()
}

func TestSocketPosts(t *testing.T) {
	r := newRig(t, Config{})
	h := &recorder{}
	r.connect(h)
	alice, bob := r.users["alice"], r.users["bob"]

	dm := r.srv.Write(alice, "", "Thursday 13:00")
	evs := r.eventsSoFar(h, 1)
	if ev := evs[0]; ev.ID != dm || ev.Kind != bot.EventText || !ev.InDM || ev.Text != "Thursday 13:00" || ev.Workspace != "" ||
		ev.UserID != alice || ev.UserName != "Alice" {
		t.Fatalf("DM event: %+v", ev)
	}
	msgs := r.srv.Messages()
	if last := msgs[len(msgs)-1]; last.DMUser != alice || last.Text != "ok" {
		t.Fatalf("the answer to a DM: %+v", last)
	}

	mention := r.srv.Write(bob, r.board, "@tend ask now")
	evs = r.eventsSoFar(h, 2)
	if ev := evs[1]; ev.ID != mention || ev.Kind != bot.EventCommand || ev.Command != "ask" || len(ev.Args) != 1 || ev.Args[0] != "now" ||
		ev.InDM || ev.Workspace != r.team || ev.ChannelID != r.board {
		t.Fatalf("mention event: %+v", ev)
	}
	msgs = r.srv.Messages()
	if last := msgs[len(msgs)-1]; last.DMUser != bob {
		t.Fatalf("the answer to a mention (the bot may not post ephemeral messages): %+v", last)
	}

	// Left alone: a channel post without a mention, the bot's own posts (the answers
	// above came back as posted events), another bot's, a webhook's and a system message.
	r.srv.Write(bob, r.board, "lovely weather, @maya")
	other := &model.Post{ChannelId: r.srv.DMChannel(alice), UserId: alice, Message: "from a bot"}
	other.AddProp(model.PostPropsFromBot, "true")
	r.srv.Emit(other)
	hook := &model.Post{ChannelId: r.board, UserId: bob, Message: "@tend help"}
	hook.AddProp(model.PostPropsFromWebhook, "true")
	r.srv.Emit(hook)
	r.srv.Emit(&model.Post{ChannelId: r.board, UserId: bob, Message: "@tend joined", Type: model.PostTypeJoinChannel})
	last := r.srv.Write(alice, "", "last")
	evs = r.eventsSoFar(h, 3)
	if len(evs) != 3 || evs[2].ID != last {
		t.Fatalf("events that should have been left alone were handled: %+v", evs)
	}
}

func TestSocketDropAndResume(t *testing.T) {
	r := newRig(t, Config{})
	h := &recorder{}
	r.connect(h)
	alice := r.users["alice"]
	r.srv.Write(alice, "", "one")
	r.eventsSoFar(h, 1)

	r.srv.Drop()
	// Written while the connection is down: the server keeps it for the resume.
	missed := r.srv.Write(alice, "", "two")
	waitFor(t, "a reconnection", func() bool { return r.srv.Upgrades() >= 2 && r.srv.Connections() == 1 })
	evs := r.eventsSoFar(h, 2)
	r.srv.Write(alice, "", "three")
	evs = r.eventsSoFar(h, 3)
	if len(evs) != 3 || evs[1].ID != missed || evs[1].Text != "two" || evs[2].Text != "three" {
		t.Fatalf("events after the resume: %+v", evs)
	}
	if n := r.srv.Sessions(); n != 1 {
		t.Errorf("the connection was not resumed: %d sessions", n)
	}

	// A server that forgot the connection (a restart) says hello again.
	r.srv.Forget()
	waitFor(t, "a new session", func() bool { return r.srv.Sessions() == 1 && r.srv.Connections() == 1 })
	r.srv.Write(alice, "", "four")
	evs = r.eventsSoFar(h, 4)
	if evs[3].Text != "four" {
		t.Fatalf("after the restart: %+v", evs)
	}
}

func TestSocketLiveness(t *testing.T) {
	r := newRig(t, Config{PingInterval: 20 * time.Millisecond})
	h := &recorder{}
	r.connect(h)
	r.srv.Silence(true)
	waitFor(t, "a reconnection after silence", func() bool { return r.srv.Upgrades() >= 2 })
	r.srv.Silence(false)
	waitFor(t, "a live connection", func() bool { return r.srv.Connections() == 1 })
	r.srv.Write(r.users["alice"], "", "still there?")
	if evs := r.eventsSoFar(h, 1); evs[0].Text != "still there?" {
		t.Fatalf("events: %+v", evs)
	}
}

func TestSocketRefusedToken(t *testing.T) {
	r := newRig(t, Config{})
	cfg := r.ad.cfg
	cfg.Token = "not-the-token"
	ad, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ad.Run(ctx, &recorder{}); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("run with a refused token: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	d := time.Duration(0)
	for i := 0; i < 10; i++ {
		d = next(d, time.Second, 8*time.Second)
		j := jitter(d)
		if j < d/2 || j > d {
			t.Fatalf("jitter(%s) = %s", d, j)
		}
	}
	if d != 8*time.Second {
		t.Fatalf("back-off grew to %s", d)
	}
}
