package mattermosttest

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
)

// route is a REST route: its name ("POST /posts/{id}/patch") and the path's ids.
type route struct {
	name string
	ids  []string
}

// match names a request's route, replacing ids with {id} (and team and channel names
// with {name}).
func match(method, path string) (route, bool) {
	rest, ok := strings.CutPrefix(path, "/api/v4")
	if !ok {
		return route{}, false
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	var ids []string
	pattern := make([]string, len(parts))
	for i, p := range parts {
		switch {
		case i > 0 && (model.IsValidId(p) || parts[i-1] == "name"):
			pattern[i] = "{id}"
			ids = append(ids, p)
		default:
			pattern[i] = p
		}
	}
	name := method + " /" + strings.Join(pattern, "/")
	return route{name: name, ids: ids}, true
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api/v4/websocket" {
		s.serveWebsocket(w, r)
		return
	}
	rt, ok := match(r.Method, r.URL.Path)
	status := s.serveREST(w, r, rt, ok)
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: r.Method, Path: strings.TrimPrefix(rt.name, r.Method+" "), Status: status})
	s.mu.Unlock()
}

// appError writes an error as the server does: an AppError in JSON.
func appError(w http.ResponseWriter, status int, id string) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(model.AppError{Id: id, Message: http.StatusText(status), StatusCode: status})
	_, _ = w.Write(b)
	return status
}

func writeJSON(w http.ResponseWriter, status int, v any) int {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(model.HeaderVersionId, "10.11.0.0.0.false")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
	return status
}

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request, rt route, ok bool) int {
	if !ok {
		return appError(w, http.StatusNotFound, "api.context.404.app_error")
	}
	if !s.bearerOK(r.Header.Get(model.HeaderAuth)) {
		return appError(w, http.StatusUnauthorized, "api.context.session_expired.app_error")
	}
	s.mu.Lock()
	for i, f := range s.faults {
		if f.route == rt.name && f.n > 0 {
			f.n--
			if f.n == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			s.mu.Unlock()
			for k, v := range f.header {
				w.Header()[k] = v
			}
			if f.status == http.StatusTooManyRequests {
				w.WriteHeader(f.status)
				_, _ = io.WriteString(w, "limit exceeded\n")
				return f.status
			}
			return appError(w, f.status, "fake.injected.app_error")
		}
	}
	s.mu.Unlock()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	id := func(i int) string {
		if i < len(rt.ids) {
			return rt.ids[i]
		}
		return ""
	}
	switch rt.name {
	case "GET /users/me":
		return writeJSON(w, 200, s.userJSON(s.bot.ID))
	case "GET /users/{id}":
		u := s.userJSON(id(0))
		if u == nil {
			return appError(w, 404, "app.user.missing_account.const")
		}
		return writeJSON(w, 200, u)
	case "GET /teams/{id}/members/{id}":
		return s.teamMember(w, id(0), id(1))
	case "POST /posts":
		return s.createPost(w, body)
	case "POST /posts/ephemeral":
		return s.createEphemeral(w, body)
	case "GET /posts/{id}":
		return s.getPost(w, id(0))
	case "PUT /posts/{id}/patch":
		return s.patchPost(w, id(0), body)
	case "POST /channels/direct":
		return s.direct(w, body)
	case "POST /actions/dialogs/open":
		return s.openDialog(w, body)
	case "GET /commands":
		return s.listCommands(w, r.URL.Query().Get("team_id"))
	case "POST /commands":
		return s.createCommand(w, body)
	case "PUT /commands/{id}":
		return s.updateCommand(w, id(0), body)
	case "GET /groups":
		return s.listGroups(w, r.URL.Query().Get("q"))
	case "GET /groups/{id}":
		return s.getGroup(w, id(0))
	case "GET /groups/{id}/members":
		return s.groupMembers(w, id(0), r)
	case "GET /channels/{id}/members":
		return s.channelMembers(w, id(0), r)
	case "GET /teams/name/{id}/channels/name/{id}":
		return s.channelByName(w, id(0), id(1))
	}
	s.mu.Lock()
	s.problemLocked("unexpected call %s", rt.name)
	s.mu.Unlock()
	return appError(w, 404, "api.context.404.app_error")
}

// bearerOK checks an Authorization header: "Bearer <token>", the scheme in any case
// (Client4 sends "BEARER").
func (s *Server) bearerOK(h string) bool {
	scheme, tok, ok := strings.Cut(h, " ")
	return ok && strings.EqualFold(scheme, "bearer") && tok == s.opts.Token
}

func (s *Server) userJSON(id string) *model.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return nil
	}
	roles := "system_user"
	if u.SystemAdmin {
		roles += " system_admin"
	}
	out := &model.User{Id: u.ID, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Locale: u.Locale, Roles: roles}
	if id == s.bot.ID {
		out.IsBot = true
	}
	return out
}

func (s *Server) teamMember(w http.ResponseWriter, team, user string) int {
	s.mu.Lock()
	roles, ok := s.members[team][user]
	gone, left := s.left[team][user]
	s.mu.Unlock()
	if !ok && left {
		// A former member: the server keeps the membership with when it ended.
		return writeJSON(w, 200, &model.TeamMember{TeamId: team, UserId: user, Roles: "team_user", SchemeUser: true, DeleteAt: gone})
	}
	if !ok {
		return appError(w, 404, "app.team.get_member.missing.app_error")
	}
	return writeJSON(w, 200, &model.TeamMember{TeamId: team, UserId: user, Roles: roles, SchemeUser: true,
		SchemeAdmin: strings.Contains(roles, "team_admin")})
}

// checkPost notes what the server would refuse in a post, as model.Post.IsValid and the
// action validation do, plus tend's own rule that nothing mentions anyone.
func (s *Server) checkPostLocked(p *model.Post, where string) bool {
	if err := p.IsValid(model.PostMessageMaxRunesV2); err != nil {
		s.problemLocked("%s: invalid post: %v", where, err)
		return false
	}
	for _, att := range p.Attachments() {
		if err := att.IsValid(); err != nil {
			s.problemLocked("%s: invalid attachment: %v", where, err)
			return false
		}
		for _, a := range att.Actions {
			if err := a.IsValid(); err != nil {
				s.problemLocked("%s: invalid action %q: %v", where, a.Id, err)
				return false
			}
			if a.Id == "" || !alnum(a.Id) {
				s.problemLocked("%s: action id %q must be letters and digits", where, a.Id)
			}
		}
	}
	return true
}

func alnum(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func decodePost(body []byte) (*model.Post, error) {
	var p model.Post
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func (s *Server) createPost(w http.ResponseWriter, body []byte) int {
	p, err := decodePost(body)
	if err != nil {
		return appError(w, 400, "api.context.invalid_body_param.app_error")
	}
	s.mu.Lock()
	if p.Id != "" {
		s.problemLocked("POST /posts with an id: the server refuses it")
		s.mu.Unlock()
		return appError(w, 400, "api.context.invalid_param.app_error")
	}
	ch := s.channels[p.ChannelId]
	if ch == nil || !ch.members[s.bot.ID] {
		s.mu.Unlock()
		return appError(w, 403, "api.context.permissions.app_error")
	}
	if pp, ok := s.pending[p.PendingPostId]; ok && p.PendingPostId != "" && time.Since(pp.at) < pendingWindow {
		// The server answers a pending id it saw lately with the post already made.
		out := deepCopy(s.posts[pp.postID].post)
		s.mu.Unlock()
		return writeJSON(w, 201, out)
	}
	p.UserId, p.CreateAt = s.bot.ID, model.GetMillis()
	p.PreSave()
	p.GenerateActionIds()
	if !s.checkPostLocked(p, "POST /posts") {
		s.mu.Unlock()
		return appError(w, 400, "model.post.is_valid.app_error")
	}
	s.posts[p.Id] = &stored{post: deepCopy(p)}
	if p.PendingPostId != "" {
		s.pending[p.PendingPostId] = pendingPost{postID: p.Id, at: time.Now()}
	}
	s.recordLocked(p, "", false)
	s.broadcastPostLocked(p, ch)
	out := deepCopy(p)
	s.mu.Unlock()
	return writeJSON(w, 201, out)
}

func (s *Server) createEphemeral(w http.ResponseWriter, body []byte) int {
	var req model.PostEphemeral
	if err := json.Unmarshal(body, &req); err != nil || req.Post == nil || req.UserID == "" {
		return appError(w, 400, "api.context.invalid_body_param.app_error")
	}
	p := req.Post
	if !s.opts.EphemeralPosts {
		return appError(w, 403, "api.context.permissions.app_error")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[p.ChannelId]
	if ch == nil || !ch.members[s.bot.ID] {
		return appError(w, 403, "api.context.permissions.app_error")
	}
	p.UserId, p.CreateAt = s.bot.ID, model.GetMillis()
	p.UpdateAt = p.CreateAt
	if p.Id == "" {
		p.Id = model.NewId()
	}
	p.GenerateActionIds()
	if !s.checkPostLocked(p, "POST /posts/ephemeral") {
		return appError(w, 400, "model.post.is_valid.app_error")
	}
	p.Type = model.PostTypeEphemeral
	old, again := s.posts[p.Id]
	if again && old.ephemeral != req.UserID {
		s.problemLocked("ephemeral post %s reused for another person", p.Id)
	}
	s.posts[p.Id] = &stored{post: deepCopy(p), ephemeral: req.UserID}
	s.recordLocked(p, req.UserID, again)
	return writeJSON(w, 201, p)
}

func (s *Server) getPost(w http.ResponseWriter, id string) int {
	s.mu.Lock()
	st, ok := s.posts[id]
	var out *model.Post
	if ok && st.ephemeral == "" {
		out = deepCopy(st.post)
		out.StripActionIntegrations()
	}
	s.mu.Unlock()
	if out == nil {
		return appError(w, 404, "app.post.get.app_error")
	}
	return writeJSON(w, 200, out)
}

func (s *Server) patchPost(w http.ResponseWriter, id string, body []byte) int {
	var patch model.PostPatch
	if err := json.Unmarshal(body, &patch); err != nil {
		return appError(w, 400, "api.context.invalid_body_param.app_error")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.posts[id]
	if !ok || st.ephemeral != "" {
		return appError(w, 404, "app.post.get.app_error")
	}
	p := deepCopy(st.post)
	p.Patch(&patch)
	p.EditAt, p.UpdateAt = model.GetMillis(), model.GetMillis()
	p.GenerateActionIds()
	if !s.checkPostLocked(p, "PUT /posts/{id}/patch") {
		return appError(w, 400, "model.post.is_valid.app_error")
	}
	st.post = deepCopy(p)
	s.recordLocked(p, "", true)
	return writeJSON(w, 200, p)
}

func (s *Server) direct(w http.ResponseWriter, body []byte) int {
	var ids []string
	if err := json.Unmarshal(body, &ids); err != nil || len(ids) != 2 {
		return appError(w, 400, "api.context.invalid_body_param.app_error")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	other := ""
	switch s.bot.ID {
	case ids[0]:
		other = ids[1]
	case ids[1]:
		other = ids[0]
	default:
		s.problemLocked("POST /channels/direct without the bot: %v", ids)
		return appError(w, 403, "api.context.permissions.app_error")
	}
	if _, ok := s.users[other]; !ok {
		return appError(w, 400, "api.channel.create_direct_channel.invalid_user.app_error")
	}
	id := s.dmLocked(other, true)
	return writeJSON(w, 201, &model.Channel{Id: id, Name: s.channels[id].name, Type: model.ChannelTypeDirect})
}

func (s *Server) openDialog(w http.ResponseWriter, body []byte) int {
	var req model.OpenDialogRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return appError(w, 400, "api.context.invalid_body_param.app_error")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := req.IsValid(); err != nil {
		s.problemLocked("dialog %q is invalid: %v", req.Dialog.CallbackId, err)
		return appError(w, 400, "interactive_message.dialog.invalid.app_error")
	}
	t, ok := s.triggers[req.TriggerId]
	if !ok {
		s.problemLocked("dialog %q opened with an unknown trigger id", req.Dialog.CallbackId)
		return appError(w, 400, "interactive_message.decode_trigger_id.missing_data")
	}
	if s.expired || time.Since(t.at) > s.opts.TriggerTTL {
		return appError(w, 400, "interactive_message.decode_trigger_id.expired")
	}
	s.dialogs[t.user] = append(s.dialogs[t.user], req)
	return writeJSON(w, 200, map[string]string{"status": "OK"})
}

// teamLocked answers for a team the bot cannot manage commands in: 404 when there is no
// such team, 403 when the bot is not in it.
func (s *Server) teamLocked(w http.ResponseWriter, team string) (int, bool) {
	if _, ok := s.teams[team]; !ok {
		return appError(w, 404, "app.team.get.find.app_error"), false
	}
	if _, ok := s.members[team][s.bot.ID]; !ok {
		return appError(w, 403, "api.context.permissions.app_error"), false
	}
	return 0, true
}

func (s *Server) listCommands(w http.ResponseWriter, team string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status, ok := s.teamLocked(w, team); !ok {
		return status
	}
	var out []*model.Command
	for _, c := range s.commands {
		if c.TeamId == team {
			cp := *c
			out = append(out, &cp)
		}
	}
	return writeJSON(w, 200, out)
}

func (s *Server) createCommand(w http.ResponseWriter, body []byte) int {
	var c model.Command
	if err := json.Unmarshal(body, &c); err != nil {
		return appError(w, 400, "api.context.invalid_body_param.app_error")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if status, ok := s.teamLocked(w, c.TeamId); !ok {
		return status
	}
	for _, o := range s.commands {
		if o.TeamId == c.TeamId && o.Trigger == c.Trigger {
			s.problemLocked("command /%s created twice in team %s", c.Trigger, c.TeamId)
			return appError(w, 400, "api.command.duplicate_trigger.app_error")
		}
	}
	c.Id, c.Token, c.CreatorId, c.CreateAt = model.NewId(), model.NewId(), s.bot.ID, model.GetMillis()
	c.UpdateAt = c.CreateAt
	if err := c.IsValid(); err != nil {
		s.problemLocked("command is invalid: %v", err)
		return appError(w, 400, "model.command.is_valid.app_error")
	}
	s.commands[c.Id] = &c
	cp := c
	return writeJSON(w, 201, &cp)
}

func (s *Server) updateCommand(w http.ResponseWriter, id string, body []byte) int {
	var c model.Command
	if err := json.Unmarshal(body, &c); err != nil {
		return appError(w, 400, "api.context.invalid_body_param.app_error")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.commands[id]
	if !ok {
		return appError(w, 404, "store.sql_command.update.missing.app_error")
	}
	c.Id, c.Token, c.CreatorId, c.CreateAt, c.TeamId, c.UpdateAt = old.Id, old.Token, old.CreatorId, old.CreateAt, old.TeamId, model.GetMillis()
	if err := c.IsValid(); err != nil {
		s.problemLocked("command is invalid: %v", err)
		return appError(w, 400, "model.command.is_valid.app_error")
	}
	s.commands[id] = &c
	cp := c
	return writeJSON(w, 200, &cp)
}

func (s *Server) listGroups(w http.ResponseWriter, q string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*model.Group
	for _, g := range s.groups {
		if q == "" || strings.Contains(strings.ToLower(g.name), strings.ToLower(q)) {
			name := g.name
			out = append(out, &model.Group{Id: g.id, Name: &name, DisplayName: g.name, Source: model.GroupSourceCustom})
		}
	}
	return writeJSON(w, 200, out)
}

func (s *Server) getGroup(w http.ResponseWriter, id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[id]
	if !ok {
		return appError(w, 404, "app.group.no_rows")
	}
	name := g.name
	return writeJSON(w, 200, &model.Group{Id: g.id, Name: &name, DisplayName: g.name, Source: model.GroupSourceCustom})
}

// page reads page and per_page as the server does.
func page(r *http.Request) (int, int) {
	p, _ := strconv.Atoi(r.URL.Query().Get("page"))
	n, err := strconv.Atoi(r.URL.Query().Get("per_page"))
	if err != nil || n <= 0 {
		n = 60
	}
	return p, min(n, 200)
}

func slice[T any](xs []T, p, n int) []T {
	lo := p * n
	if lo >= len(xs) {
		return []T{}
	}
	return xs[lo:min(lo+n, len(xs))]
}

func (s *Server) groupMembers(w http.ResponseWriter, id string, r *http.Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[id]
	if !ok {
		return appError(w, 404, "app.group.no_rows")
	}
	p, n := page(r)
	var users []*model.User
	for _, u := range slice(g.members, p, n) {
		users = append(users, &model.User{Id: u, Username: s.users[u].Username})
	}
	return writeJSON(w, 200, &model.GroupMemberList{Members: users, Count: len(g.members)})
}

func (s *Server) channelMembers(w http.ResponseWriter, id string, r *http.Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[id]
	if !ok || !ch.members[s.bot.ID] {
		return appError(w, 404, "app.channel.get.existing.app_error")
	}
	var ids []string
	for u := range ch.members {
		ids = append(ids, u)
	}
	sort.Strings(ids)
	p, n := page(r)
	out := model.ChannelMembers{}
	for _, u := range slice(ids, p, n) {
		out = append(out, model.ChannelMember{ChannelId: id, UserId: u, Roles: "channel_user"})
	}
	return writeJSON(w, 200, out)
}

func (s *Server) channelByName(w http.ResponseWriter, team, name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tid, tname := range s.teams {
		if tname != team {
			continue
		}
		for _, ch := range s.channels {
			if ch.team == tid && ch.name == name {
				return writeJSON(w, 200, &model.Channel{Id: ch.id, TeamId: tid, Name: ch.name, Type: ch.typ})
			}
		}
	}
	return appError(w, 404, "app.channel.get_by_name.missing.app_error")
}
