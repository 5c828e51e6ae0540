package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tend-community/tend/bot"
)

// socketServer plays Slack's Socket Mode end: on the first connection it says hello,
// sends envelopes, collects the acks, then asks the client to reconnect; on the second
// it says hello and waits.
type socketServer struct {
	t         *testing.T
	envelopes []string

	mu          sync.Mutex
	acks        map[string]json.RawMessage
	connections int
	allAcked    chan struct{}
	reconnected chan struct{}
	done        chan struct{}
}

func (s *socketServer) serve(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }} // the client says Origin: https://api.slack.com
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		s.t.Errorf("upgrade: %v", err)
		return
	}
	defer conn.Close()
	s.mu.Lock()
	s.connections++
	n := s.connections
	s.mu.Unlock()
	hello := `{"type":"hello","num_connections":1,"debug_info":{"host":"applink-7fc4fdbb64-4x5xq","build_number":10,"approximate_connection_time":18060},"connection_info":{"app_id":"A1"}}`
	if err := conn.WriteMessage(websocket.TextMessage, []byte(hello)); err != nil {
		s.t.Errorf("hello: %v", err)
		return
	}
	if n > 1 {
		close(s.reconnected)
		<-s.done
		return
	}
	for _, e := range s.envelopes {
		if err := conn.WriteMessage(websocket.TextMessage, []byte(e)); err != nil {
			s.t.Errorf("send envelope: %v", err)
			return
		}
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if err := conn.ReadJSON(&ack); err != nil {
			s.t.Errorf("reading acks: %v", err)
			return
		}
		s.mu.Lock()
		s.acks[ack.EnvelopeID] = ack.Payload
		complete := len(s.acks) == len(s.envelopes)
		s.mu.Unlock()
		if complete {
			close(s.allAcked)
			break
		}
	}
	disconnect := `{"type":"disconnect","reason":"refresh_requested","debug_info":{"host":"applink-7fc4fdbb64-4x5xq"}}`
	_ = conn.WriteMessage(websocket.TextMessage, []byte(disconnect))
	// Slack closes the connection after a disconnect; wait for the client to go.
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			return
		}
	}
}

func TestSocketModeAcksEveryEnvelope(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeSocket, nil)
	srv := &socketServer{t: t, acks: map[string]json.RawMessage{}, allAcked: make(chan struct{}),
		reconnected: make(chan struct{}), done: make(chan struct{})}
	srv.envelopes = []string{
		`{"envelope_id":"env-events","payload":{"token":"XXYYZZ","team_id":"T1","api_app_id":"A1","event":{"type":"message","channel":"D024BE91L","user":"U2","text":"hello","ts":"1355517523.000005","event_ts":"1355517523.000005","channel_type":"im"},"type":"event_callback","event_id":"Ev08MFMKH6","event_time":1355517523},"type":"events_api","accepts_response_payload":false,"retry_attempt":0,"retry_reason":""}`,
		`{"envelope_id":"env-interactive","payload":{"type":"block_actions","user":{"id":"U1","username":"alice","name":"alice","team_id":"T1"},"api_app_id":"A1","token":"x","container":{"type":"message","message_ts":"1700000000.000200","channel_id":"C1","is_ephemeral":false},"trigger_id":"trig-2","team":{"id":"T1","domain":"care"},"channel":{"id":"C1","name":"board"},"message":{"type":"message","ts":"1700000000.000200","text":"A ride"},"response_url":"https://hooks.slack.com/actions/T1/1/abc","actions":[{"action_id":"ask","block_id":"b1","text":{"type":"plain_text","text":"Ask for help"},"type":"button","action_ts":"1700000001.000300"}],"state":{"values":{}}},"type":"interactive","accepts_response_payload":false}`,
		`{"envelope_id":"env-command","payload":{"token":"x","team_id":"T1","team_domain":"care","channel_id":"C2","channel_name":"general","user_id":"U3","user_name":"carol","command":"/tend","text":"help","api_app_id":"A1","is_enterprise_install":"false","response_url":"https://hooks.slack.com/commands/T1/3/ghi","trigger_id":"trig-3"},"type":"slash_commands","accepts_response_payload":true}`,
		`{"envelope_id":"env-unknown-event","payload":{"type":"event_callback","team_id":"T1","event_id":"Ev99","event":{"type":"some_future_event","user":"U1"}},"type":"events_api","accepts_response_payload":false,"retry_attempt":0,"retry_reason":""}`,
	}
	f.mu.Lock()
	f.ws = srv.serve
	f.mu.Unlock()

	rec := &recorder{reply: func(ev bot.Event) (bot.Reply, error) {
		switch ev.Kind {
		case bot.EventCommand:
			return bot.Reply{Messages: []bot.Rendered{{Title: "How tend works", Body: []string{"Type /tend ask"}}}}, nil
		case bot.EventButton:
			form := askForm()
			return bot.Reply{Form: &form}, nil
		case bot.EventText:
			return bot.Reply{InDM: true, Messages: []bot.Rendered{card("", "Hello!")}}, nil
		}
		return bot.Reply{}, nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(ctx, rec) }()

	wait := func(ch chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case err := <-runErr:
			t.Fatalf("Run returned before %s: %v", what, err)
		case <-time.After(10 * time.Second):
			t.Fatalf("timed out waiting for %s", what)
		}
	}
	wait(srv.allAcked, "the acks")
	wait(srv.reconnected, "the reconnection after disconnect")
	f.waitFor("views.open", 1)
	f.waitFor("chat.postMessage", 1)
	close(srv.done)
	cancel()
	select {
	case err := <-runErr:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}

	srv.mu.Lock()
	acks := srv.acks
	srv.mu.Unlock()
	for _, id := range []string{"env-events", "env-interactive", "env-command", "env-unknown-event"} {
		if _, ok := acks[id]; !ok {
			t.Errorf("envelope %s was not acknowledged", id)
		}
	}
	var cmd struct {
		ResponseType string           `json:"response_type"`
		Text         string           `json:"text"`
		Blocks       []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(acks["env-command"], &cmd); err != nil {
		t.Fatalf("command ack %s: %v", acks["env-command"], err)
	}
	if cmd.ResponseType != "ephemeral" || !strings.Contains(cmd.Text, "How tend works") {
		t.Errorf("command ack %s", acks["env-command"])
	}
	if raw := string(acks["env-command"]); !strings.Contains(raw, `"blocks":[{"type":"header"`) {
		t.Errorf("command ack without blocks: %s", raw)
	}
	for _, id := range []string{"env-events", "env-interactive"} {
		if p := acks[id]; len(p) != 0 && string(p) != "null" {
			t.Errorf("%s ack payload %s, want none", id, p)
		}
	}

	byKind := map[bot.EventKind]bot.Event{}
	for _, ev := range rec.got() {
		byKind[ev.Kind] = ev
	}
	if len(rec.got()) != 3 {
		t.Errorf("%d events reached the bot, want 3: %+v", len(rec.got()), rec.got())
	}
	if ev := byKind[bot.EventText]; ev.ID != "Ev08MFMKH6" || ev.Text != "hello" || !ev.InDM || ev.UserID != "U2" || ev.Workspace != "T1" {
		t.Errorf("text event %+v", ev)
	}
	if ev := byKind[bot.EventButton]; ev.ID != "act:trig-2:1700000001.000300" || ev.Action != "ask" || ev.ChannelID != "C1" || ev.UserID != "U1" {
		t.Errorf("button event %+v", ev)
	}
	if ev := byKind[bot.EventCommand]; ev.ID != "cmd:trig-3" || ev.Command != "help" || ev.ChannelID != "C2" || ev.UserName != "carol" {
		t.Errorf("command event %+v", ev)
	}
	if opens := f.callsTo("views.open"); opens[0].JSON["trigger_id"] != "trig-2" {
		t.Errorf("views.open %+v", opens[0].JSON)
	}
	if posts := f.callsTo("chat.postMessage"); posts[0].Form.Get("channel") != "D024BE91L" {
		t.Errorf("DM reply went to %q", posts[0].Form.Get("channel"))
	}
	if c := f.callsTo("apps.connections.open"); len(c) < 2 || c[0].Auth != "Bearer xapp-test" {
		t.Errorf("apps.connections.open: %d calls, auth %q", len(c), c[0].Auth)
	}
}
