package mattermosttest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mattermost/mattermost/server/public/model"
)

// wsSession is a websocket connection as the server remembers it: its id, the next
// sequence number and the events it keeps for a client that comes back.
type wsSession struct {
	id    string
	next  int64
	log   []loggedEvent
	conn  *wsConn
	hello bool
}

type loggedEvent struct {
	seq  int64
	data []byte
}

// wsConn is one live websocket.
type wsConn struct {
	ws     *websocket.Conn
	wmu    sync.Mutex
	sess   *wsSession
	authed bool
	resume int64 // the sequence number to replay from once authenticated; -1 for none
}

func (c *wsConn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// serveWebsocket upgrades /api/v4/websocket. A bearer token in the Authorization header
// authenticates at once (a wrong one is refused with 401); otherwise the first message
// must be the authentication challenge. A connection_id the server still remembers,
// with a sequence_number it still has, resumes: the events from there are replayed and
// no hello is sent. Anything else starts a new connection, which says hello first.
func (s *Server) serveWebsocket(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get(model.HeaderAuth)
	if auth != "" && !s.bearerOK(auth) {
		s.mu.Lock()
		s.calls = append(s.calls, Call{Method: r.Method, Path: "/websocket", Status: 401})
		s.mu.Unlock()
		appError(w, http.StatusUnauthorized, "api.context.session_expired.app_error")
		return
	}
	ws, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &wsConn{ws: ws, resume: -1}
	connID := r.URL.Query().Get("connection_id")
	seq, seqErr := strconv.ParseInt(r.URL.Query().Get("sequence_number"), 10, 64)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	sess, known := s.sessions[connID]
	if known && seqErr == nil && sess.conn == nil && s.canResumeLocked(sess, seq) {
		c.sess, c.resume = sess, seq
	} else {
		sess = &wsSession{id: model.NewId()}
		s.sessions[sess.id] = sess
		c.sess = sess
	}
	sess.conn = c
	s.conns[c] = struct{}{}
	s.upgrades++
	if auth != "" {
		s.authenticateLocked(c)
	}
	s.mu.Unlock()
	s.wg.Add(1)
	go s.readLoop(c)
}

// canResumeLocked reports whether a session still has every event from seq on.
func (s *Server) canResumeLocked(sess *wsSession, seq int64) bool {
	if seq > sess.next || seq < 0 {
		return false
	}
	if seq == sess.next {
		return true
	}
	return len(sess.log) > 0 && sess.log[0].seq <= seq
}

// authenticateLocked marks a connection authenticated and sends what it is owed: the
// hello of a new connection, or the events a resumed one missed.
func (s *Server) authenticateLocked(c *wsConn) {
	if c.authed {
		return
	}
	c.authed = true
	sess := c.sess
	if c.resume >= 0 {
		for _, e := range sess.log {
			if e.seq >= c.resume {
				_ = c.write(e.data)
			}
		}
		return
	}
	if !sess.hello {
		sess.hello = true
		s.sendLocked(sess, model.WebsocketEventHello, map[string]any{"connection_id": sess.id, "server_version": "10.11.0.0.0.false"},
			map[string]any{"user_id": s.bot.ID})
	}
}

// sendLocked gives an event the session's next sequence number, keeps it for a resume
// and writes it when the session's connection is live.
func (s *Server) sendLocked(sess *wsSession, event model.WebsocketEventType, data, broadcast map[string]any) {
	b, _ := json.Marshal(map[string]any{"event": event, "data": data, "broadcast": broadcast, "seq": sess.next})
	sess.log = append(sess.log, loggedEvent{seq: sess.next, data: b})
	if len(sess.log) > s.opts.ReplayLimit {
		sess.log = sess.log[len(sess.log)-s.opts.ReplayLimit:]
	}
	sess.next++
	if c := sess.conn; c != nil && c.authed {
		_ = c.write(b)
	}
}

func (s *Server) readLoop(c *wsConn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		if c.sess.conn == c {
			c.sess.conn = nil
		}
		s.mu.Unlock()
		_ = c.ws.Close()
	}()
	c.ws.SetPingHandler(func(data string) error {
		s.mu.Lock()
		silent := s.silent
		s.mu.Unlock()
		if silent {
			return nil
		}
		c.wmu.Lock()
		defer c.wmu.Unlock()
		return c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
	})
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var req model.WebSocketRequest
		if err := json.Unmarshal(b, &req); err != nil {
			s.mu.Lock()
			s.problemLocked("websocket: unreadable message")
			s.mu.Unlock()
			continue
		}
		resp := map[string]any{"status": model.StatusOk, "seq_reply": req.Seq}
		s.mu.Lock()
		if req.Action == string(model.WebsocketAuthenticationChallenge) {
			if tok, _ := req.Data["token"].(string); tok != s.opts.Token {
				s.problemLocked("websocket: authentication challenge with a wrong token")
				resp = map[string]any{"status": "FAIL", "seq_reply": req.Seq,
					"error": model.AppError{Id: "api.web_socket_router.not_authenticated.app_error", StatusCode: 401}}
			} else {
				s.authenticateLocked(c)
			}
		} else if !c.authed {
			resp = map[string]any{"status": "FAIL", "seq_reply": req.Seq,
				"error": model.AppError{Id: "api.web_socket_router.not_authenticated.app_error", StatusCode: 401}}
		}
		s.mu.Unlock()
		out, _ := json.Marshal(resp)
		_ = c.write(out)
	}
}

// broadcastPostLocked sends a posted event for a post to every session of the bot when
// the bot is in the post's channel, as the server does: the post JSON-encoded in
// data.post, with the channel's type and name, the sender and the mentioned ids.
func (s *Server) broadcastPostLocked(p *model.Post, ch *channel) {
	if !ch.members[s.bot.ID] {
		return
	}
	cp := deepCopy(p)
	cp.StripActionIntegrations()
	raw, _ := json.Marshal(cp)
	sender := s.users[p.UserId].Username
	data := map[string]any{
		"post": string(raw), "channel_type": string(ch.typ), "channel_name": ch.name, "channel_display_name": ch.display,
		"team_id": ch.team, "sender_name": "@" + sender, "set_online": true,
	}
	var mentioned []string
	for _, u := range s.users {
		if u.ID != p.UserId && mentionOf(p.Message, u.Username) {
			mentioned = append(mentioned, u.ID)
		}
	}
	if len(mentioned) > 0 {
		b, _ := json.Marshal(mentioned)
		data["mentions"] = string(b)
	}
	for _, sess := range s.sessions {
		s.sendLocked(sess, model.WebsocketEventPosted, data, map[string]any{"channel_id": ch.id, "team_id": ch.team})
	}
}

// Drop breaks every live websocket without a close frame, as a network failure would;
// the server keeps the sessions, so the clients may resume.
func (s *Server) Drop() {
	s.mu.Lock()
	conns := make([]*wsConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.UnderlyingConn().Close()
	}
}

// Forget drops every websocket and forgets the sessions, as a server restart would:
// clients coming back get a new connection id and a hello.
func (s *Server) Forget() {
	s.mu.Lock()
	s.sessions = map[string]*wsSession{}
	s.mu.Unlock()
	s.Drop()
}

// Silence stops (or resumes) answering the clients' pings.
func (s *Server) Silence(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silent = on
}

// Connections is how many live, authenticated websockets there are.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		if c.authed {
			n++
		}
	}
	return n
}

// Upgrades is how many websockets were opened, resumed ones included.
func (s *Server) Upgrades() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.upgrades
}

// Sessions is how many websocket sessions the server has started (a resume is not one).
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// WaitConnections waits until n websockets are live and authenticated.
func (s *Server) WaitConnections(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if s.Connections() == n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("mattermosttest: %d websockets live, want %d", s.Connections(), n)
}
