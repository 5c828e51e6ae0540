// Package discordtest is an in-process fake of Discord for tests of the
// Discord adapter: the REST API (v10 payload shapes, plus the v9 gateway
// discovery routes discordgo uses) and the gateway websocket (HELLO,
// IDENTIFY/READY, RESUME/replay/RESUMED, heartbeats, INVALID_SESSION,
// RECONNECT).
//
// A test wires a discordgo.Session to it with
//
//	srv := discordtest.New(t, discordtest.Options{Token: "tok"})
//	sess, _ := discordgo.New("Bot tok")
//	sess.Client = srv.Client()
//	sess.Dialer = srv.Dialer()
//
// then drives users through Command, Press, SubmitModal and DMText, and
// inspects what the bot did through Messages, Callbacks, Modal, Calls and
// Problems. Problems lists every protocol violation the fake noticed (limits
// exceeded, double acknowledgement, unknown interaction, unknown route...);
// tests should assert it is empty.
//
// REST routes are served under /api/v10 only, except GET /gateway and
// /gateway/bot which discordgo itself calls with its built-in v9; a v9 call to
// any other route (discordgo's helper methods such as ChannelMessageSend use
// v9) is answered 404 and noted as a Problem.
//
// The fake keeps everything in memory and is safe for concurrent use. New
// registers a cleanup that closes the websocket connections and the HTTP
// server and waits for the fake's goroutines.
package discordtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

const (
	defaultAppID     = "900000000000000001"
	defaultBotUserID = "900000000000000002"
	firstSnowflake   = 1100000000000000000
	// waitLimit bounds every wait the fake does on behalf of a test.
	waitLimit = 10 * time.Second
	// replayLimit is how many dispatches a session keeps for RESUME.
	replayLimit = 1000
	// defaultAppPermissions is what the interactions report the bot may do in
	// the channel: VIEW_CHANNEL, SEND_MESSAGES, EMBED_LINKS,
	// READ_MESSAGE_HISTORY, USE_APPLICATION_COMMANDS.
	defaultAppPermissions = "2147568640"
)

// Intent bits the fake looks at.
const (
	intentGuildMembers   = 1 << 1
	intentGuildPresences = 1 << 8
	intentDirectMessages = 1 << 12
	intentMessageContent = 1 << 15
	privilegedIntents    = intentGuildMembers | intentGuildPresences | intentMessageContent
)

// Options configures a Server.
type Options struct {
	// Token is the bot token. REST calls must carry "Authorization: Bot
	// <Token>" and IDENTIFY/RESUME must carry "Bot <Token>" or "<Token>"
	// (discordgo sends the session token as given). A wrong token gets
	// REST 401 {"message":"401: Unauthorized","code":0} and gateway close code
	// 4004. Empty accepts any non-empty token.
	Token string
	// AppID is the application id (default "900000000000000001").
	AppID string
	// BotUserID is the bot user's id (default "900000000000000002").
	BotUserID string
	// HeartbeatInterval is announced in HELLO (default 41250ms).
	HeartbeatInterval time.Duration
	// DenyPrivilegedIntents makes an IDENTIFY asking for a privileged intent
	// (GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT) fail with close code
	// 4014, as for an application that has not enabled them.
	DenyPrivilegedIntents bool
	// RealisticRateLimitHeaders makes injected 429s (RateLimit) carry
	// X-RateLimit-Remaining: 0 and X-RateLimit-Reset-After: <retry_after> as
	// Discord's per-route 429s do. discordgo's bucket then sleeps until the
	// reset before its next request in that bucket (every bucket when the 429
	// is global). Off by default so that tests never sleep.
	RealisticRateLimitHeaders bool
}

// User is a Discord user as the tests describe them.
type User struct{ ID, Username, GlobalName string }

// UserOption is a slash command option value of type USER (6).
type UserOption struct{ ID string }

// Server is the fake Discord. Create it with New.
type Server struct {
	t        testing.TB
	opts     Options
	http     *httptest.Server
	addr     string
	upgrader websocket.Upgrader
	wg       sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	nextID   uint64
	calls    []Call
	problems []string
	uaWarned bool

	// REST state.
	faults       []*fault
	users        map[string]User
	channels     map[string]*channel
	dmByUser     map[string]string
	perms        map[string]int64 // "guild/user" -> permission bits in interactions
	closedDMs    map[string]bool
	members      map[string]map[string][]string // guild -> user -> roles
	store        map[string]*storedMsg
	records      []Message
	nonces       map[string]string // channel + "\x00" + nonce -> message id
	interactions map[string]*interaction
	byToken      map[string]*interaction
	callbacks    []Callback
	modals       map[string]Modal
	modalLog     []modalRec
	commands     map[string][]map[string]any // scope ("" or guild id) -> commands
	commandIDs   map[string]string           // scope + "\x00" + name -> id

	// Gateway state.
	conns      map[*gwConn]struct{}
	sessions   map[string]*gwSession
	cur        *gwSession
	identifies []Identify
	resumes    []Resume
	readies    int
	resumed    int
	acks       int
}

type channel struct {
	id, guildID, dmUser string
}

// New starts a fake Discord for the duration of the test.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	if o.AppID == "" {
		o.AppID = defaultAppID
	}
	if o.BotUserID == "" {
		o.BotUserID = defaultBotUserID
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = 41250 * time.Millisecond
	}
	s := &Server{
		t:            t,
		opts:         o,
		nextID:       firstSnowflake,
		users:        map[string]User{},
		channels:     map[string]*channel{},
		dmByUser:     map[string]string{},
		perms:        map[string]int64{},
		closedDMs:    map[string]bool{},
		members:      map[string]map[string][]string{},
		store:        map[string]*storedMsg{},
		nonces:       map[string]string{},
		interactions: map[string]*interaction{},
		byToken:      map[string]*interaction{},
		modals:       map[string]Modal{},
		commands:     map[string][]map[string]any{},
		commandIDs:   map[string]string{},
		conns:        map[*gwConn]struct{}{},
		sessions:     map[string]*gwSession{},
	}
	s.upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	s.http = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.addr = s.http.Listener.Addr().String()
	t.Cleanup(s.close)
	return s
}

func (s *Server) close() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*gwConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.ws.Close()
	}
	s.http.Close()
	s.wg.Wait()
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if websocket.IsWebSocketUpgrade(r) {
		s.serveGateway(w, r)
		return
	}
	s.serveREST(w, r)
}

// Client returns an HTTP client that sends every request for
// https://discord.com/... to the fake (path and query kept) and refuses any
// other host.
func (s *Server) Client() *http.Client {
	return &http.Client{
		Transport: &rewriteTransport{base: s.http.Client().Transport, addr: s.addr, s: s},
		Timeout:   waitLimit,
	}
}

// Dialer returns a websocket dialer for the fake gateway; it refuses any
// address but the fake's.
func (s *Server) Dialer() *websocket.Dialer {
	return &websocket.Dialer{
		HandshakeTimeout: 5 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr != s.addr {
				return nil, &net.OpError{Op: "dial", Net: network, Err: errRefused(addr)}
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
}

// GatewayURL is the fake gateway's URL, as GET /gateway returns it (and as
// READY's resume_gateway_url). discordgo appends "/?v=9&encoding=json".
func (s *Server) GatewayURL() string { return "ws://" + s.addr }

type errRefused string

func (e errRefused) Error() string {
	return "discordtest: refusing to dial " + string(e) + " (only the fake gateway is reachable)"
}

type rewriteTransport struct {
	base http.RoundTripper
	addr string
	s    *Server
}

func (rt *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != "discord.com" {
		if req.Body != nil {
			req.Body.Close()
		}
		rt.s.problem("request to %s %s: only https://discord.com is served", req.Method, req.URL)
		return nil, errRefused(req.URL.Host)
	}
	r := req.Clone(req.Context())
	r.URL.Scheme = "http"
	r.URL.Host = rt.addr
	r.Host = rt.addr
	return rt.base.RoundTrip(r)
}

// snowflakeLocked returns a fresh id. Callers hold s.mu.
func (s *Server) snowflakeLocked() string {
	s.nextID++
	return strconv.FormatUint(s.nextID, 10)
}

func (s *Server) problem(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.problemLocked(format, args...)
}

func (s *Server) problemLocked(format string, args ...any) {
	s.problems = append(s.problems, fmt.Sprintf(format, args...))
}

// waitFor polls cond (evaluated under s.mu) until it holds or waitLimit
// passes; it reports whether it held.
func (s *Server) waitFor(cond func() bool) bool {
	deadline := time.Now().Add(waitLimit)
	for {
		s.mu.Lock()
		ok := cond()
		closed := s.closed
		s.mu.Unlock()
		if ok {
			return true
		}
		if closed || time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func timestamp() string {
	return time.Now().UTC().Format("2006-01-02T15:04:05.000000+00:00")
}

// knowUserLocked remembers a user's names for payloads built later.
func (s *Server) knowUserLocked(u User) {
	if u.ID == "" {
		return
	}
	old, ok := s.users[u.ID]
	if ok && u.Username == "" {
		u.Username = old.Username
	}
	if ok && u.GlobalName == "" {
		u.GlobalName = old.GlobalName
	}
	s.users[u.ID] = u
}

func (s *Server) userLocked(id string) User {
	if u, ok := s.users[id]; ok {
		return u
	}
	return User{ID: id}
}

// userJSON is a v10 user object.
func userJSON(u User) map[string]any {
	name := u.Username
	if name == "" {
		name = "user" + u.ID
	}
	var global any
	if u.GlobalName != "" {
		global = u.GlobalName
	}
	return map[string]any{
		"id": u.ID, "username": name, "global_name": global, "discriminator": "0",
		"avatar": nil, "public_flags": 0,
	}
}

func (s *Server) botUserJSON() map[string]any {
	return map[string]any{
		"id": s.opts.BotUserID, "username": "tend", "global_name": nil, "discriminator": "0",
		"avatar": nil, "bot": true, "public_flags": 0, "flags": 0, "verified": true, "mfa_enabled": false,
	}
}

// memberJSON is a v10 guild member object (with its user).
func memberJSON(u User, roles []string) map[string]any {
	if roles == nil {
		roles = []string{}
	}
	return map[string]any{
		"user": userJSON(u), "roles": append([]string{}, roles...), "nick": nil, "avatar": nil,
		"permissions": "0", "joined_at": "2024-01-01T00:00:00.000000+00:00", "premium_since": nil,
		"deaf": false, "mute": false, "flags": 0, "pending": false, "communication_disabled_until": nil,
	}
}

// dmChannelLocked returns the bot's DM channel with a user, creating it.
func (s *Server) dmChannelLocked(userID string) string {
	if id, ok := s.dmByUser[userID]; ok {
		return id
	}
	id := s.snowflakeLocked()
	s.dmByUser[userID] = id
	s.channels[id] = &channel{id: id, dmUser: userID}
	return id
}

// DMChannelID returns the id of the bot's DM channel with a user (the one
// POST /users/@me/channels returns), creating it if needed.
func (s *Server) DMChannelID(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dmChannelLocked(userID)
}

// guildChannelLocked notes that a channel belongs to a guild.
func (s *Server) guildChannelLocked(guildID, channelID string) {
	if channelID == "" {
		return
	}
	if c, ok := s.channels[channelID]; ok {
		if c.guildID == "" && c.dmUser == "" {
			c.guildID = guildID
		}
		return
	}
	s.channels[channelID] = &channel{id: channelID, guildID: guildID}
}

// SetMember makes a user a member of a guild with these roles (GET
// /guilds/{gid}/members/{uid} answers it).
func (s *Server) SetMember(guildID string, u User, roles []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setMemberLocked(guildID, u, roles)
}

func (s *Server) setMemberLocked(guildID string, u User, roles []string) {
	s.knowUserLocked(u)
	if s.members[guildID] == nil {
		s.members[guildID] = map[string][]string{}
	}
	s.members[guildID][u.ID] = append([]string{}, roles...)
}

// SetPermissions gives a member these permission bits (as Discord computes them for the
// channel) in the interactions they make in a guild; 0x20 is "Manage Server".
func (s *Server) SetPermissions(guildID, userID string, bits int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perms[guildID+"/"+userID] = bits
}

// CloseDMs makes messages posted to the user's DM channel fail with 403
// {"message":"Cannot send messages to this user","code":50007}.
func (s *Server) CloseDMs(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closedDMs[userID] = true
}

func trimAPI(path string) (version, rest string) {
	if !strings.HasPrefix(path, "/api/v") {
		return "", path
	}
	p := strings.TrimPrefix(path, "/api/v")
	i := strings.IndexByte(p, '/')
	if i < 0 {
		return p, "/"
	}
	return p[:i], p[i:]
}
