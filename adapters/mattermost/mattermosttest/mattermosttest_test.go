package mattermosttest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mattermost/mattermost/server/public/model"

	"github.com/tend-community/tend/adapters/mattermost/mattermosttest"
)

const token = "faketoken00000000000000000"

func client(srv *mattermosttest.Server, tok string) *model.Client4 {
	c := model.NewAPIv4Client(srv.URL())
	c.HTTPClient = srv.Client()
	c.SetToken(tok)
	return c
}

func TestRESTShapes(t *testing.T) {
	srv := mattermosttest.New(t, mattermosttest.Options{Token: token})
	ctx := context.Background()
	team := srv.AddTeam("hospice")
	alice := srv.AddUser(mattermosttest.User{Username: "alice"})
	board := srv.AddChannel(team, "board", alice.ID)

	if _, resp, err := client(srv, "wrong").GetMe(ctx, ""); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %v", err)
	}
	c := client(srv, token)
	me, _, err := c.GetMe(ctx, "")
	if err != nil || me.Id != srv.BotUserID() || !me.IsBot {
		t.Fatalf("users/me: %+v %v", me, err)
	}
	p := &model.Post{ChannelId: board, Message: "hello", PendingPostId: "p1"}
	out, _, err := c.CreatePost(ctx, p)
	if err != nil || !model.IsValidId(out.Id) {
		t.Fatalf("post: %+v %v", out, err)
	}
	again, _, err := c.CreatePost(ctx, &model.Post{ChannelId: board, Message: "hello", PendingPostId: "p1"})
	if err != nil || again.Id != out.Id {
		t.Fatalf("the pending id was not deduplicated: %v %v", again, err)
	}
	if _, resp, err := c.CreatePost(ctx, &model.Post{Id: model.NewId(), ChannelId: board, Message: "x"}); err == nil || resp.StatusCode != 400 {
		t.Errorf("a post with an id was accepted")
	}
	if srv.Problems() == nil {
		t.Error("a post with an id was not noted")
	}
	srv.RateLimit("POST /posts", 1, 2)
	_, resp, err := c.CreatePost(ctx, &model.Post{ChannelId: board, Message: "limited"})
	if err == nil || resp.StatusCode != 429 || resp.Header.Get("X-Ratelimit-Reset") != "2" || resp.Header.Get("X-Ratelimit-Remaining") != "0" {
		t.Fatalf("429: %v %+v", err, resp)
	}
	msg := "edited"
	if _, _, err := c.PatchPost(ctx, out.Id, &model.PostPatch{Message: &msg}); err != nil {
		t.Fatal(err)
	}
	if got, _ := srv.Post(out.Id); got.Message != "edited" {
		t.Fatalf("patch: %q", got.Message)
	}
	ch, _, err := c.CreateDirectChannel(ctx, srv.BotUserID(), alice.ID)
	if err != nil || ch.Id != srv.DMChannel(alice.ID) || ch.Type != model.ChannelTypeDirect {
		t.Fatalf("direct: %+v %v", ch, err)
	}
	if msgs := srv.Messages(); len(msgs) != 2 || !msgs[1].Edit {
		t.Fatalf("messages: %+v", msgs)
	}
}

// reader collects a websocket's events and responses.
func dial(t *testing.T, srv *mattermosttest.Server, tok, connID string, seq int) *model.WebSocketClient {
	t.Helper()
	ws, err := model.NewReliableWebSocketClientWithDialer(websocket.DefaultDialer, "ws"+strings.TrimPrefix(srv.URL(), "http"), tok, connID, seq, false)
	if err != nil {
		t.Fatal(err)
	}
	ws.Listen()
	t.Cleanup(ws.Close)
	return ws
}

func next(t *testing.T, ws *model.WebSocketClient) *model.WebSocketEvent {
	t.Helper()
	select {
	case ev := <-ws.EventChannel:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
	return nil
}

func TestWebsocketProtocol(t *testing.T) {
	srv := mattermosttest.New(t, mattermosttest.Options{Token: token})
	team := srv.AddTeam("hospice")
	alice := srv.AddUser(mattermosttest.User{Username: "alice"})
	board := srv.AddChannel(team, "board", alice.ID)

	// A wrong token in the challenge: FAIL, and nothing is sent.
	bad := dial(t, srv, "wrong", "", 0)
	select {
	case resp := <-bad.ResponseChannel:
		if resp.Status != "FAIL" || resp.SeqReply != 1 {
			t.Fatalf("challenge with a wrong token: %+v", resp)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer to the challenge")
	}
	if p := srv.Problems(); len(p) != 1 {
		t.Fatalf("problems: %v", p)
	}

	ws := dial(t, srv, token, "", 0)
	hello := next(t, ws)
	connID, _ := hello.GetData()["connection_id"].(string)
	if hello.EventType() != model.WebsocketEventHello || hello.GetSequence() != 0 || connID == "" {
		t.Fatalf("hello: %+v", hello)
	}
	id := srv.Write(alice.ID, board, "hi @tend")
	ev := next(t, ws)
	var p model.Post
	if raw, _ := ev.GetData()["post"].(string); json.Unmarshal([]byte(raw), &p) != nil || p.Id != id || ev.GetSequence() != 1 {
		t.Fatalf("posted: %+v", ev)
	}
	var mentioned []string
	if raw, _ := ev.GetData()["mentions"].(string); json.Unmarshal([]byte(raw), &mentioned) != nil || len(mentioned) != 1 || mentioned[0] != srv.BotUserID() {
		t.Fatalf("mentions: %v", ev.GetData()["mentions"])
	}

	// Dropped, then resumed from sequence 2: what was missed comes, no hello.
	srv.Drop()
	for range ws.EventChannel {
	}
	sessions := srv.Sessions()
	missed := srv.Write(alice.ID, board, "while away")
	back := dial(t, srv, token, connID, 2)
	ev = next(t, back)
	if raw, _ := ev.GetData()["post"].(string); ev.EventType() != model.WebsocketEventPosted || !strings.Contains(raw, missed) || ev.GetSequence() != 2 {
		t.Fatalf("replayed: %+v", ev)
	}
	if srv.Sessions() != sessions {
		t.Fatalf("%d sessions after a resume, %d before", srv.Sessions(), sessions)
	}
	// A connection id the server does not know gets a new connection and a hello.
	other := dial(t, srv, token, model.NewId(), 5)
	if ev := next(t, other); ev.EventType() != model.WebsocketEventHello {
		t.Fatalf("unknown connection id: %+v", ev)
	}
}
