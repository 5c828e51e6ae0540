// Package mattermosttest is an in-process fake of a Mattermost server for tests of the
// Mattermost adapter: the REST API v4 routes the adapter uses, with payloads shaped as
// the model package serialises them, and the websocket at /api/v4/websocket
// (authentication challenge, hello, posted events with the post JSON-encoded in
// data.post, sequence numbers, resumption with connection_id and sequence_number).
//
// It also plays Mattermost's part towards the integration: a person typing /tend makes
// it POST the registered command's URL (with the command's token); pressing a button
// POSTs the action's integration URL with its context; submitting a dialog POSTs the
// dialog's URL with its state; writing to the bot sends a posted event.
//
// Problems lists every protocol violation noticed (an invalid post or dialog, an unknown
// or expired trigger, a post that would mention someone, a call without the token...);
// tests should assert it is empty. The fake keeps everything in memory and is safe for
// concurrent use; New registers a cleanup that closes it.
package mattermosttest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mattermost/mattermost/server/public/model"
)

// Options configures a Server.
type Options struct {
	// Token is the bot's access token; REST calls must carry "Authorization: Bearer
	// <Token>" and the websocket's authentication challenge the same token.
	Token string
	// BotUsername is the bot account's username (default "tend").
	BotUsername string
	// TriggerTTL is how long a trigger id opens a dialog (the server's is 3 s, the
	// default); ExpireTriggers ends them all.
	TriggerTTL time.Duration
	// EphemeralPosts gives the bot the create_post_ephemeral permission, which the
	// server gives only to System Admins by default: without it POST /posts/ephemeral
	// answers 403.
	EphemeralPosts bool
	// ReplayLimit is how many events a websocket connection keeps for resumption
	// (default 128, as the server's dead queue).
	ReplayLimit int
}

// User is a person on the fake server.
type User struct {
	ID, Username, FirstName, LastName, Locale string
	// SystemAdmin gives the user the system_admin role.
	SystemAdmin bool
}

// Server is the fake Mattermost. Create it with New.
type Server struct {
	t    testing.TB
	opts Options
	http *httptest.Server
	up   websocket.Upgrader
	wg   sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	bot      User
	users    map[string]User
	teams    map[string]string            // id -> name
	members  map[string]map[string]string // team -> user -> roles
	left     map[string]map[string]int64  // team -> user -> when they left (delete_at)
	channels map[string]*channel
	posts    map[string]*stored
	order    []Message
	pending  map[string]pendingPost
	commands map[string]*model.Command
	triggers map[string]trigger
	dialogs  map[string][]model.OpenDialogRequest // user -> dialogs opened, in order
	groups   map[string]*group
	faults   []*fault
	calls    []Call
	problems []string
	expired  bool

	sessions map[string]*wsSession
	conns    map[*wsConn]struct{}
	upgrades int
	silent   bool
}

type channel struct {
	id, team, name, display string
	typ                     model.ChannelType
	members                 map[string]bool
}

type stored struct {
	post      *model.Post
	ephemeral string // the user who sees it, for an ephemeral post
}

type pendingPost struct {
	postID string
	at     time.Time
}

type trigger struct {
	user string
	at   time.Time
}

type group struct {
	id, name string
	members  []string
}

// fault is an injected answer for the next calls of a route.
type fault struct {
	route  string
	n      int
	status int
	header http.Header
}

// Call is one REST call the fake served.
type Call struct {
	Method, Path string
	Status       int
}

// Message is what people could see, in order: a post in a channel or a DM, an
// ephemeral post shown to one person, or an edit of one of them.
type Message struct {
	PostID    string
	ChannelID string
	// DMUser is the person in a direct channel with the bot; EphemeralTo the one person
	// an ephemeral post shows to.
	DMUser, EphemeralTo string
	Text                string
	Actions             []Action
	Edit                bool
}

// Action is a button or menu on a post, with the context tend gave it.
type Action struct {
	ID, Name, Type string
	Options        []*model.PostActionOptions
	URL            string
	Context        map[string]any
}

// pendingWindow is how long the server remembers a pending_post_id.
const pendingWindow = 30 * time.Second

// New starts a fake server.
func New(t testing.TB, o Options) *Server {
	if o.BotUsername == "" {
		o.BotUsername = "tend"
	}
	if o.TriggerTTL <= 0 {
		o.TriggerTTL = 3 * time.Second
	}
	if o.ReplayLimit <= 0 {
		o.ReplayLimit = 128
	}
	s := &Server{t: t, opts: o, users: map[string]User{}, teams: map[string]string{}, members: map[string]map[string]string{}, left: map[string]map[string]int64{},
		channels: map[string]*channel{}, posts: map[string]*stored{}, pending: map[string]pendingPost{},
		commands: map[string]*model.Command{}, triggers: map[string]trigger{}, dialogs: map[string][]model.OpenDialogRequest{},
		groups: map[string]*group{}, sessions: map[string]*wsSession{}, conns: map[*wsConn]struct{}{}}
	s.bot = User{ID: model.NewId(), Username: o.BotUsername, FirstName: "tend"}
	s.users[s.bot.ID] = s.bot
	s.http = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.close)
	return s
}

func (s *Server) close() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*wsConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.Close()
	}
	s.http.Close()
	s.wg.Wait()
}

// URL is the server's base URL, as the adapter's config takes it.
func (s *Server) URL() string { return s.http.URL }

// Client is an HTTP client for the fake.
func (s *Server) Client() *http.Client { return s.http.Client() }

// BotUserID is the bot account's id.
func (s *Server) BotUserID() string { return s.bot.ID }

// AddUser creates a person; an empty ID gets one.
func (s *Server) AddUser(u User) User {
	if u.ID == "" {
		u.ID = model.NewId()
	}
	if u.Locale == "" {
		u.Locale = "en"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
	return u
}

// AddTeam creates a team with the bot in it and returns its id.
func (s *Server) AddTeam(name string) string {
	id := model.NewId()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.teams[id] = name
	s.members[id] = map[string]string{s.bot.ID: "team_user"}
	return id
}

// AddMember puts a person in a team; admin makes them a team administrator.
func (s *Server) AddMember(team, user string, admin bool) {
	roles := "team_user"
	if admin {
		roles = "team_user team_admin"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[team][user] = roles
}

// RemoveMember takes a person out of a team (they left or were removed), as the server
// does: their team membership keeps its delete_at, and every session of the bot gets a
// leave_team event with the team and the person.
func (s *Server) RemoveMember(team, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.members[team], user)
	if s.left[team] == nil {
		s.left[team] = map[string]int64{}
	}
	s.left[team][user] = model.GetMillis()
	for _, sess := range s.sessions {
		s.sendLocked(sess, model.WebsocketEventLeaveTeam, map[string]any{"team_id": team, "user_id": user},
			map[string]any{"team_id": team})
	}
}

// AddChannel creates an open channel in a team with the bot and the given people in it.
func (s *Server) AddChannel(team, name string, members ...string) string {
	id := model.NewId()
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := &channel{id: id, team: team, name: name, display: name, typ: model.ChannelTypeOpen, members: map[string]bool{s.bot.ID: true}}
	for _, m := range members {
		ch.members[m] = true
	}
	s.channels[id] = ch
	return id
}

// AddGroup creates a custom group with members and returns its id.
func (s *Server) AddGroup(name string, members ...string) string {
	id := model.NewId()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = &group{id: id, name: name, members: members}
	return id
}

// SetGroupMembers replaces a group's members.
func (s *Server) SetGroupMembers(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id].members = members
}

// Fail makes the next n calls of a route ("POST /posts", "PUT /posts/{id}/patch",
// ...) answer status, with header.
func (s *Server) Fail(route string, n, status int, header http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{route: route, n: n, status: status, header: header})
}

// RateLimit makes the next n calls of a route answer 429 as Mattermost's rate limiter
// does: X-Ratelimit-Limit, X-Ratelimit-Remaining: 0, X-Ratelimit-Reset (seconds) and
// Retry-After.
func (s *Server) RateLimit(route string, n, resetSeconds int) {
	h := http.Header{}
	h.Set("X-Ratelimit-Limit", "10")
	h.Set("X-Ratelimit-Remaining", "0")
	h.Set("X-Ratelimit-Reset", fmt.Sprint(resetSeconds))
	h.Set("Retry-After", fmt.Sprint(resetSeconds))
	s.Fail(route, n, http.StatusTooManyRequests, h)
}

// ExpireTriggers makes every trigger id, issued or to come, too old to open a dialog
// (as three seconds would), until it is called with false.
func (s *Server) ExpireTriggers(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expired = on
}

// Calls lists the REST calls served so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Count is how many calls of a route ("POST /posts") were served with a status.
func (s *Server) Count(route string, status int) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Method+" "+c.Path == route && c.Status == status {
			n++
		}
	}
	return n
}

// Problems lists the protocol violations noticed.
func (s *Server) Problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.problems...)
}

func (s *Server) problemLocked(format string, args ...any) {
	s.problems = append(s.problems, fmt.Sprintf(format, args...))
}

// Messages lists what people could see, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.order))
	copy(out, s.order)
	return out
}

// Post is a post as it is now (a copy), and whether it exists.
func (s *Server) Post(id string) (*model.Post, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.posts[id]
	if !ok {
		return nil, false
	}
	return deepCopy(st.post), true
}

// DMChannel is the direct channel between the bot and a person ("" when none yet).
func (s *Server) DMChannel(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dmLocked(user, false)
}

func (s *Server) dmLocked(user string, create bool) string {
	name := directName(s.bot.ID, user)
	for id, ch := range s.channels {
		if ch.typ == model.ChannelTypeDirect && ch.name == name {
			return id
		}
	}
	if !create {
		return ""
	}
	id := model.NewId()
	s.channels[id] = &channel{id: id, name: name, typ: model.ChannelTypeDirect, members: map[string]bool{s.bot.ID: true, user: true}}
	return id
}

// directName is a direct channel's name: the two ids, sorted, joined by "__".
func directName(a, b string) string {
	ids := []string{a, b}
	sort.Strings(ids)
	return ids[0] + "__" + ids[1]
}

// record adds what people see, decoding its actions.
func (s *Server) recordLocked(p *model.Post, ephemeralTo string, edit bool) {
	m := Message{PostID: p.Id, ChannelID: p.ChannelId, EphemeralTo: ephemeralTo, Text: p.Message, Edit: edit}
	if ch := s.channels[p.ChannelId]; ch != nil && ch.typ == model.ChannelTypeDirect {
		for u := range ch.members {
			if u != s.bot.ID {
				m.DMUser = u
			}
		}
	}
	for _, att := range p.Attachments() {
		for _, a := range att.Actions {
			act := Action{ID: a.Id, Name: a.Name, Type: a.Type, Options: a.Options}
			if a.Integration != nil {
				act.URL, act.Context = a.Integration.URL, a.Integration.Context
			}
			m.Actions = append(m.Actions, act)
		}
	}
	s.order = append(s.order, m)
	s.checkMentionsLocked(p)
}

// mentionRE is what Mattermost reads as a mention: @ then a letter or digit.
var mentionRE = regexp.MustCompile(`(^|[^\w])@[\pL\pN]`)

// checkMentionsLocked notes a bot post whose text would mention someone.
func (s *Server) checkMentionsLocked(p *model.Post) {
	texts := []string{p.Message}
	for _, att := range p.Attachments() {
		texts = append(texts, att.Text, att.Pretext, att.Title)
		for _, f := range att.Fields {
			if v, ok := f.Value.(string); ok {
				texts = append(texts, v)
			}
		}
	}
	for _, t := range texts {
		if mentionRE.MatchString(t) {
			s.problemLocked("post %s would mention someone: %q", p.Id, t)
		}
		if strings.Contains(t, "](") {
			s.problemLocked("post %s has a markdown link whose text may hide its address: %q", p.Id, t)
		}
	}
}

// deepCopy copies a post through JSON, so stripping or editing the copy's attachments
// never touches the original (Clone shares them).
func deepCopy(p *model.Post) *model.Post {
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	var out model.Post
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return &out
}
