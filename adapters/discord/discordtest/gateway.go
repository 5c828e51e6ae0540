package discordtest

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Gateway opcodes.
const (
	opDispatch       = 0
	opHeartbeat      = 1
	opIdentify       = 2
	opPresenceUpdate = 3
	opVoiceState     = 4
	opResume         = 6
	opReconnect      = 7
	opRequestMembers = 8
	opInvalidSession = 9
	opHello          = 10
	opHeartbeatAck   = 11
	opSoundboard     = 31
)

const writeTimeout = 5 * time.Second

// gwConn is one websocket connection to the fake gateway.
type gwConn struct {
	ws    *websocket.Conn
	wmu   sync.Mutex
	sess  *gwSession // the session it is identified/resumed as; nil before
	beats int        // heartbeats received
}

// gwSession is a gateway session, resumable across connections.
type gwSession struct {
	id       string
	seq      int64
	buf      []frame // last replayLimit dispatches
	conn     *gwConn // nil while no connection carries it
	compress bool
	intents  int64
}

type frame struct {
	seq  int64
	typ  string
	data []byte
}

func (c *gwConn) send(data []byte, compress bool) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	if !compress {
		return c.ws.WriteMessage(websocket.TextMessage, data)
	}
	var b bytes.Buffer
	z := zlib.NewWriter(&b)
	_, _ = z.Write(data)
	_ = z.Close()
	return c.ws.WriteMessage(websocket.BinaryMessage, b.Bytes())
}

func (c *gwConn) sendOp(op int, d any) {
	b, _ := json.Marshal(map[string]any{"op": op, "d": d, "s": nil, "t": nil})
	_ = c.send(b, false)
}

// closeWith sends a close frame with a gateway close code and closes.
func (c *gwConn) closeWith(code int, reason string) {
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(writeTimeout))
	c.wmu.Unlock()
	c.ws.Close()
}

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.problem("gateway upgrade: %v", err)
		return
	}
	c := &gwConn{ws: ws}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	switch {
	case q.Get("v") != "9" && q.Get("v") != "10":
		s.problem("gateway URL %s: v must be 9 or 10", r.URL)
		c.closeWith(4012, "Invalid API version.")
	case q.Get("encoding") != "json":
		s.problem("gateway URL %s: the fake speaks encoding=json only", r.URL)
		c.closeWith(4002, "Error while decoding payload.")
	case q.Get("compress") != "":
		s.problem("gateway URL %s: transport compression is not supported by the fake", r.URL)
		c.closeWith(4002, "Error while decoding payload.")
	default:
		c.sendOp(opHello, map[string]any{"heartbeat_interval": s.opts.HeartbeatInterval.Milliseconds(), "_trace": []string{"discordtest"}})
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				s.connGone(c, err)
				return
			}
			s.onFrame(c, data)
		}
	}
	s.connGone(c, nil)
}

// connGone detaches a closed connection from its session. A client closing
// with 1000 or 1001 ends its session, as on Discord.
func (s *Server) connGone(c *gwConn, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if sess := c.sess; sess != nil && sess.conn == c {
		sess.conn = nil
		var ce *websocket.CloseError
		if errors.As(err, &ce) && (ce.Code == websocket.CloseNormalClosure || ce.Code == websocket.CloseGoingAway) {
			delete(s.sessions, sess.id)
			if s.cur == sess {
				s.cur = nil
			}
		}
	}
	c.ws.Close()
}

func (s *Server) onFrame(c *gwConn, data []byte) {
	var p struct {
		Op *int            `json:"op"`
		D  json.RawMessage `json:"d"`
	}
	if len(data) > 4096 {
		s.problem("gateway: client payload of %d bytes (limit 4096)", len(data))
		c.closeWith(4002, "Error while decoding payload.")
		return
	}
	if err := json.Unmarshal(data, &p); err != nil || p.Op == nil {
		s.problem("gateway: undecodable payload %q", data)
		c.closeWith(4002, "Error while decoding payload.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	authed := c.sess != nil
	switch op := *p.Op; {
	case op == opHeartbeat:
		s.acks++
		c.beats++
		c.sendOp(opHeartbeatAck, nil)
	case op == opIdentify && authed:
		s.problemLocked("gateway: IDENTIFY on an already identified connection")
		c.closeWith(4005, "Already authenticated.")
	case op == opIdentify:
		s.identifyLocked(c, p.D)
	case op == opResume && authed:
		s.problemLocked("gateway: RESUME on an already identified connection")
		c.closeWith(4005, "Already authenticated.")
	case op == opResume:
		s.resumeLocked(c, p.D)
	case op == opPresenceUpdate || op == opVoiceState || op == opRequestMembers || op == opSoundboard:
		if !authed {
			s.problemLocked("gateway: op %d before IDENTIFY", op)
			c.closeWith(4003, "Not authenticated.")
		}
	default:
		s.problemLocked("gateway: unknown opcode %d", op)
		c.closeWith(4001, "Unknown opcode.")
	}
}

func (s *Server) tokenOK(tok string) bool {
	if s.opts.Token == "" {
		return tok != ""
	}
	return tok == "Bot "+s.opts.Token || tok == s.opts.Token
}

func (s *Server) identifyLocked(c *gwConn, raw json.RawMessage) {
	var d struct {
		Token          string         `json:"token"`
		Intents        *int64         `json:"intents"`
		Shard          []int          `json:"shard"`
		Properties     map[string]any `json:"properties"`
		Compress       bool           `json:"compress"`
		LargeThreshold int            `json:"large_threshold"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		s.problemLocked("gateway: IDENTIFY: %v", err)
		c.closeWith(4002, "Error while decoding payload.")
		return
	}
	id := Identify{Token: d.Token, Shard: d.Shard, Compress: d.Compress, LargeThreshold: d.LargeThreshold,
		Properties: map[string]string{}, Raw: append(json.RawMessage(nil), raw...)}
	for k, v := range d.Properties {
		id.Properties[k] = strOf(v)
	}
	if d.Intents != nil {
		id.Intents = *d.Intents
	}
	s.identifies = append(s.identifies, id)
	switch {
	case !s.tokenOK(d.Token):
		c.closeWith(4004, "Authentication failed.")
		return
	case d.Intents == nil || *d.Intents < 0 || *d.Intents >= 1<<26:
		s.problemLocked("gateway: IDENTIFY without valid intents (required in v10)")
		c.closeWith(4013, "Invalid intent(s).")
		return
	case s.opts.DenyPrivilegedIntents && *d.Intents&privilegedIntents != 0:
		c.closeWith(4014, "Disallowed intent(s).")
		return
	case d.Shard != nil && (len(d.Shard) != 2 || d.Shard[0] < 0 || d.Shard[0] >= d.Shard[1]):
		s.problemLocked("gateway: IDENTIFY with invalid shard %v", d.Shard)
		c.closeWith(4010, "Invalid shard.")
		return
	}
	sess := &gwSession{id: randomHex(16), conn: c, compress: d.Compress, intents: *d.Intents}
	s.sessions[sess.id] = sess
	s.cur = sess
	c.sess = sess
	ready := map[string]any{
		"v": 10, "user": s.botUserJSON(), "guilds": []any{}, "private_channels": []any{},
		"relationships": []any{}, "presences": []any{}, "session_type": "normal",
		"session_id": sess.id, "resume_gateway_url": s.GatewayURL(),
		"application": map[string]any{"id": s.opts.AppID, "flags": 0},
		"_trace":      []string{"discordtest"},
	}
	if d.Shard != nil {
		ready["shard"] = d.Shard
	}
	b, _ := json.Marshal(ready)
	s.dispatchLocked(sess, "READY", b)
	s.readies++
}

func (s *Server) resumeLocked(c *gwConn, raw json.RawMessage) {
	var d struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		s.problemLocked("gateway: RESUME: %v", err)
		c.closeWith(4002, "Error while decoding payload.")
		return
	}
	s.resumes = append(s.resumes, Resume{Token: d.Token, SessionID: d.SessionID, Seq: d.Seq})
	if !s.tokenOK(d.Token) {
		c.closeWith(4004, "Authentication failed.")
		return
	}
	sess := s.sessions[d.SessionID]
	if sess == nil || d.Seq > sess.seq || (len(sess.buf) > 0 && sess.buf[0].seq > d.Seq+1) {
		// Unknown or expired session, or events lost from the replay buffer.
		c.sendOp(opInvalidSession, false)
		return
	}
	if old := sess.conn; old != nil && old != c {
		old.sess = nil
		old.ws.Close()
	}
	sess.conn, c.sess, s.cur = c, sess, sess
	for _, f := range sess.buf {
		if f.seq > d.Seq && f.typ != "READY" && f.typ != "RESUMED" {
			_ = c.send(f.data, sess.compress)
		}
	}
	s.dispatchLocked(sess, "RESUMED", json.RawMessage(`{"_trace":["discordtest"]}`))
	s.resumed++
}

// dispatchLocked numbers a dispatch in a session, keeps it for replay and
// sends it if a connection carries the session.
func (s *Server) dispatchLocked(sess *gwSession, typ string, d json.RawMessage) int64 {
	sess.seq++
	b, _ := json.Marshal(map[string]any{"op": opDispatch, "t": typ, "s": sess.seq, "d": d})
	sess.buf = append(sess.buf, frame{seq: sess.seq, typ: typ, data: b})
	if len(sess.buf) > replayLimit {
		sess.buf = append([]frame(nil), sess.buf[len(sess.buf)-replayLimit:]...)
	}
	if sess.conn != nil {
		_ = sess.conn.send(b, sess.compress)
	}
	return sess.seq
}

// Dispatch sends a dispatch (op 0) of eventType with data as "d" on the
// current session, numbered with the session's next sequence, and returns
// that sequence. It waits (up to 10 s) for a session to exist. While the
// session has no connection (after Drop, RECONNECT...) the event is only
// queued: the client gets it when it RESUMEs. On timeout the test is marked
// failed and Dispatch returns 0.
func (s *Server) Dispatch(eventType string, data any) int64 {
	return s.dispatch(eventType, data, 0)
}

// dispatch is Dispatch noting a Problem when the session's intents lack
// intent.
func (s *Server) dispatch(eventType string, data any, intent int64) int64 {
	b, err := json.Marshal(data)
	if err != nil {
		s.t.Errorf("discordtest: Dispatch %s: %v", eventType, err)
		return 0
	}
	var seq int64
	found := s.waitFor(func() bool {
		if s.cur == nil {
			return false
		}
		if intent != 0 && s.cur.intents&intent == 0 {
			s.problemLocked("gateway: %s delivered although the session's intents (%d) lack %d", eventType, s.cur.intents, intent)
		}
		seq = s.dispatchLocked(s.cur, eventType, b)
		return true
	})
	if !found {
		s.t.Errorf("discordtest: Dispatch %s: no gateway session within %v", eventType, waitLimit)
	}
	return seq
}

// liveConnLocked is the connection of the current session, if any.
func (s *Server) liveConnLocked() *gwConn {
	if s.cur == nil {
		return nil
	}
	return s.cur.conn
}

// withLiveConn waits (bounded) for the current session to have a connection
// and runs f on it under the lock. With settled, it also waits for the
// connection's first heartbeat: discordgo starts its heartbeat goroutine with
// an immediate heartbeat, and if that write fails because the connection is
// already gone, the goroutine runs a second Close+reconnect concurrently with
// the reader's, closing the fresh connection with code 1000 (which ends the
// session, so the client re-IDENTIFYs instead of resuming).
func (s *Server) withLiveConn(what string, settled bool, f func(c *gwConn)) {
	if !s.waitFor(func() bool {
		c := s.liveConnLocked()
		if c == nil || (settled && c.beats == 0) {
			return false
		}
		f(c)
		return true
	}) {
		s.t.Errorf("discordtest: %s: no live gateway connection within %v", what, waitLimit)
	}
}

// Drop cuts the current gateway connection abruptly (no close frame, as for
// a network failure). The session stays resumable: events dispatched while
// the client is away are replayed when it RESUMEs, followed by RESUMED. It
// first waits (bounded) for a live connection that has sent a heartbeat.
// discordgo notices the drop on its next read, closes (sleeping 1 s in
// Session.Close), then reopens the cached gateway URL and RESUMEs.
func (s *Server) Drop() {
	s.withLiveConn("Drop", true, func(c *gwConn) {
		c.sess.conn = nil
		c.sess = nil
		c.ws.Close()
	})
}

// InvalidateSession sends INVALID_SESSION (op 9) with d=resumable. The
// connection is no longer identified; when resumable is false the session is
// forgotten. discordgo answers any op 9 with a new IDENTIFY on the same
// connection, right away.
func (s *Server) InvalidateSession(resumable bool) {
	s.withLiveConn("InvalidateSession", false, func(c *gwConn) {
		sess := c.sess
		c.sendOp(opInvalidSession, resumable)
		sess.conn, c.sess, s.cur = nil, nil, nil
		if !resumable {
			delete(s.sessions, sess.id)
		}
	})
}

// Reconnect sends RECONNECT (op 7), once the live connection has sent a
// heartbeat; the client should close (discordgo uses code 1012, keeping the
// session) and RESUME.
func (s *Server) Reconnect() {
	s.withLiveConn("Reconnect", true, func(c *gwConn) {
		c.sendOp(opReconnect, nil)
	})
}

// WaitSessions waits (up to 10 s) until n READY have been sent in total.
func (s *Server) WaitSessions(t testing.TB, n int) {
	t.Helper()
	if !s.waitFor(func() bool { return s.readies >= n }) {
		t.Fatalf("discordtest: %d READY sent, want %d (identifies: %d)", s.count(&s.readies), n, len(s.Identifies()))
	}
}

// WaitResumed waits (up to 10 s) until n RESUMED have been sent in total.
func (s *Server) WaitResumed(t testing.TB, n int) {
	t.Helper()
	if !s.waitFor(func() bool { return s.resumed >= n }) {
		t.Fatalf("discordtest: %d RESUMED sent, want %d (resumes: %d)", s.count(&s.resumed), n, len(s.Resumes()))
	}
}

func (s *Server) count(p *int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *p
}

// MemberRemove sends GUILD_MEMBER_REMOVE for a user leaving (or removed from) a guild,
// shaped as Discord documents it: {"guild_id": ..., "user": {...}}; the user is no longer
// a member (GET /guilds/{gid}/members/{uid} answers 404). Discord sends it only to
// sessions with the privileged GUILD_MEMBERS intent: delivering it to one without is a
// Problem. It returns the dispatch's sequence number.
func (s *Server) MemberRemove(guildID string, u User) int64 {
	s.mu.Lock()
	s.knowUserLocked(u)
	delete(s.members[guildID], u.ID)
	s.mu.Unlock()
	return s.dispatch("GUILD_MEMBER_REMOVE", map[string]any{"guild_id": guildID, "user": userJSON(u)}, intentGuildMembers)
}

// Replay sends again, on the current session, a dispatch already sent with sequence seq,
// as Discord replays missed dispatches after a RESUME; a client must not act on it twice.
func (s *Server) Replay(seq int64) {
	s.withLiveConn("Replay", false, func(c *gwConn) {
		for _, f := range c.sess.buf {
			if f.seq == seq {
				_ = c.send(f.data, c.sess.compress)
				return
			}
		}
		s.problemLocked("Replay: no dispatch %d in the session's buffer", seq)
	})
}
