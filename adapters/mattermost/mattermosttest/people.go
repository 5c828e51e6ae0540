package mattermosttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"
)

// Answer is what an integration answered to a request the fake made for a person.
type Answer struct {
	Status int
	Body   []byte
}

// newTriggerLocked issues a trigger id for a person, as the server does for a slash
// command or a press.
func (s *Server) newTriggerLocked(user string) string {
	id := model.NewId() + model.NewId()
	s.triggers[id] = trigger{user: user, at: time.Now()}
	return id
}

func (s *Server) post(u string, contentType string, body []byte, header http.Header) (Answer, error) {
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return Answer{}, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Answer{Status: resp.StatusCode, Body: b}, nil
}

// Command is a person typing "/<trigger> <text>" in a channel: the server POSTs the
// team's registered command's URL with the command's token (form field and header), as
// Mattermost's outgoing command request. The command's response (text, attachments)
// becomes an ephemeral post or a post, as the server would make it.
func (s *Server) Command(user, channelID, text string) (Answer, error) {
	s.mu.Lock()
	ch := s.channels[channelID]
	if ch == nil {
		s.mu.Unlock()
		return Answer{}, fmt.Errorf("mattermosttest: no channel %s", channelID)
	}
	team := ch.team
	if team == "" {
		for t, m := range s.members {
			if _, ok := m[user]; ok {
				team = t
			}
		}
	}
	var cmd *model.Command
	for _, c := range s.commands {
		if c.TeamId == team && c.Trigger == "tend" {
			cmd = c
		}
	}
	if cmd == nil {
		s.mu.Unlock()
		return Answer{}, fmt.Errorf("mattermosttest: no /tend command in team %s", team)
	}
	u := s.users[user]
	form := url.Values{
		"channel_id": {channelID}, "channel_name": {ch.name}, "command": {"/" + cmd.Trigger}, "team_domain": {s.teams[team]},
		"team_id": {team}, "text": {text}, "token": {cmd.Token}, "trigger_id": {s.newTriggerLocked(user)},
		"user_id": {user}, "user_name": {u.Username}, "response_url": {s.http.URL + "/hooks/commands/" + model.NewId()},
	}
	target, token := cmd.URL, cmd.Token
	s.mu.Unlock()
	return s.CommandWith(target, form, http.Header{"Authorization": {"Token " + token}})
}

// CommandWith POSTs a slash command form as given, for tests of what tend refuses.
func (s *Server) CommandWith(target string, form url.Values, header http.Header) (Answer, error) {
	ans, err := s.post(target, "application/x-www-form-urlencoded", []byte(form.Encode()), header)
	if err != nil || ans.Status != http.StatusOK {
		return ans, err
	}
	var resp model.CommandResponse
	if len(bytes.TrimSpace(ans.Body)) > 0 {
		if err := json.Unmarshal(ans.Body, &resp); err != nil {
			s.mu.Lock()
			s.problemLocked("slash command answered with something that is not a command response")
			s.mu.Unlock()
			return ans, nil
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range append([]*model.CommandResponse{&resp}, resp.ExtraResponses...) {
		s.commandPostLocked(r, form.Get("channel_id"), form.Get("user_id"))
	}
	return ans, nil
}

// commandPostLocked makes the post a command response asks for, as the server does: an
// ephemeral post for the person (the default), or a post in the channel.
func (s *Server) commandPostLocked(r *model.CommandResponse, channelID, user string) {
	if r.Text == "" && r.Attachments == nil {
		return
	}
	if !r.SkipSlackParsing && strings.ContainsAny(r.Text, "<|") {
		s.problemLocked("a command response with Slack parsing on: <url|text> in it becomes a link")
	}
	p := &model.Post{Id: model.NewId(), ChannelId: channelID, UserId: user, Message: r.Text, CreateAt: model.GetMillis()}
	p.UpdateAt = p.CreateAt
	p.SetProps(model.StringInterface{})
	for k, v := range r.Props {
		p.AddProp(k, v)
	}
	if r.Attachments != nil {
		p.AddProp(model.PostPropsAttachments, r.Attachments)
	}
	p.GenerateActionIds()
	if !s.checkPostLocked(p, "command response") {
		return
	}
	ephemeral := user
	if r.ResponseType == model.CommandResponseTypeInChannel {
		ephemeral = ""
	}
	s.posts[p.Id] = &stored{post: deepCopy(p), ephemeral: ephemeral}
	s.recordLocked(p, ephemeral, false)
}

// Press is a person pressing a button (or picking an option of a menu) on a post they
// can see: the server reads the action from the post as it is now (an ephemeral post,
// from what the person was shown) and POSTs its integration URL with the context, the
// selected option, a fresh trigger id and who and where. With stale, a press on an
// action the post no longer has uses the action as seen (a screen not yet refreshed
// when two people press at once); otherwise it is refused as the server would.
func (s *Server) Press(user, postID, actionID, selected string, seen *Action) (Answer, error) {
	s.mu.Lock()
	st, ok := s.posts[postID]
	if !ok || (st.ephemeral != "" && st.ephemeral != user) {
		s.mu.Unlock()
		return Answer{}, fmt.Errorf("mattermosttest: %s cannot see post %s", user, postID)
	}
	var act *model.PostAction
	if a := st.post.GetAction(actionID); a != nil {
		act = a
	} else if seen != nil {
		act = &model.PostAction{Id: seen.ID, Type: seen.Type, Integration: &model.PostActionIntegration{URL: seen.URL, Context: seen.Context}}
	} else {
		s.mu.Unlock()
		return Answer{}, fmt.Errorf("mattermosttest: post %s has no action %s", postID, actionID)
	}
	ch := s.channels[st.post.ChannelId]
	if act.Integration == nil || ch == nil {
		s.mu.Unlock()
		return Answer{}, fmt.Errorf("mattermosttest: action %s of post %s calls nothing", actionID, postID)
	}
	ctx := map[string]any{}
	for k, v := range act.Integration.Context {
		ctx[k] = v
	}
	req := model.PostActionIntegrationRequest{UserId: user, UserName: s.users[user].Username, ChannelId: ch.id, ChannelName: ch.name,
		TeamId: ch.team, TeamName: s.teams[ch.team], PostId: postID, TriggerId: s.newTriggerLocked(user), Type: act.Type,
		DataSource: act.DataSource, Context: ctx}
	if act.Type == model.PostActionTypeSelect && selected != "" {
		req.Context[ctxSelected] = selected
	}
	target := act.Integration.URL
	s.mu.Unlock()
	return s.Action(target, req)
}

const ctxSelected = "selected_option"

// Action POSTs an action request as given, for tests of what tend refuses. An answer
// with an update edits the post; one with ephemeral text shows it to the person.
func (s *Server) Action(target string, req model.PostActionIntegrationRequest) (Answer, error) {
	b, _ := json.Marshal(req)
	ans, err := s.post(target, "application/json", b, nil)
	if err != nil || ans.Status != http.StatusOK {
		return ans, err
	}
	var resp model.PostActionIntegrationResponse
	if len(bytes.TrimSpace(ans.Body)) > 0 {
		if err := json.Unmarshal(ans.Body, &resp); err != nil {
			s.mu.Lock()
			s.problemLocked("action answered with something that is not an action response")
			s.mu.Unlock()
			return ans, nil
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if resp.Update != nil {
		if st, ok := s.posts[req.PostId]; ok && st.ephemeral == "" {
			resp.Update.Id, resp.Update.ChannelId, resp.Update.UserId = req.PostId, st.post.ChannelId, st.post.UserId
			resp.Update.CreateAt, resp.Update.UpdateAt = st.post.CreateAt, model.GetMillis()
			if s.checkPostLocked(resp.Update, "action update") {
				st.post = deepCopy(resp.Update)
				s.recordLocked(resp.Update, "", true)
			}
		}
	}
	if resp.EphemeralText != "" {
		if !resp.SkipSlackParsing && strings.ContainsAny(resp.EphemeralText, "<|") {
			s.problemLocked("an action response with Slack parsing on: <url|text> in it becomes a link")
		}
		p := &model.Post{Id: model.NewId(), ChannelId: req.ChannelId, UserId: req.UserId, Message: resp.EphemeralText, CreateAt: model.GetMillis()}
		s.posts[p.Id] = &stored{post: p, ephemeral: req.UserId}
		s.recordLocked(p, req.UserId, false)
	}
	return ans, nil
}

// Dialog is the last dialog opened for a person, if any.
func (s *Server) Dialog(user string) (model.OpenDialogRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dialogs[user]
	if len(d) == 0 {
		return model.OpenDialogRequest{}, false
	}
	return d[len(d)-1], true
}

// Dialogs is how many dialogs were opened for a person.
func (s *Server) Dialogs(user string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.dialogs[user])
}

// Submit is a person submitting the last dialog opened for them, as the client does:
// each element takes the value given, else its default; a required element left empty,
// a value over an element's length, or a select value that is not one of its options is
// refused by the client before anything is sent (an error here). The server POSTs the
// dialog's URL with its callback id, state and the answers. An answer with errors keeps
// the dialog open, as it is returned.
func (s *Server) Submit(user, channelID string, values map[string]string) (model.SubmitDialogResponse, Answer, error) {
	d, ok := s.Dialog(user)
	if !ok {
		return model.SubmitDialogResponse{}, Answer{}, fmt.Errorf("mattermosttest: no dialog is open for %s", user)
	}
	sub := map[string]any{}
	for _, e := range d.Dialog.Elements {
		v, given := values[e.Name]
		if !given {
			v = e.Default
		}
		switch {
		case v == "" && !e.Optional:
			return model.SubmitDialogResponse{}, Answer{}, fmt.Errorf("mattermosttest: %q is required", e.Name)
		case e.Type == "select" && v != "" && !hasOption(e.Options, v):
			return model.SubmitDialogResponse{}, Answer{}, fmt.Errorf("mattermosttest: %q is not an option of %q", v, e.Name)
		case (e.Type == "text" || e.Type == "textarea") && e.MaxLength > 0 && len([]rune(v)) > e.MaxLength:
			return model.SubmitDialogResponse{}, Answer{}, fmt.Errorf("mattermosttest: %q is longer than %d", e.Name, e.MaxLength)
		}
		if v != "" {
			sub[e.Name] = v
		}
	}
	s.mu.Lock()
	team := ""
	if ch := s.channels[channelID]; ch != nil {
		team = ch.team
	}
	s.mu.Unlock()
	req := model.SubmitDialogRequest{Type: "dialog_submission", URL: d.URL, CallbackId: d.Dialog.CallbackId, State: d.Dialog.State,
		UserId: user, ChannelId: channelID, TeamId: team, Submission: sub}
	return s.SubmitWith(d.URL, req)
}

// SubmitWith POSTs a dialog submission as given, for tests of what tend refuses.
func (s *Server) SubmitWith(target string, req model.SubmitDialogRequest) (model.SubmitDialogResponse, Answer, error) {
	b, _ := json.Marshal(req)
	ans, err := s.post(target, "application/json", b, nil)
	var resp model.SubmitDialogResponse
	if err != nil || ans.Status != http.StatusOK {
		return resp, ans, err
	}
	if len(bytes.TrimSpace(ans.Body)) > 0 {
		if err := json.Unmarshal(ans.Body, &resp); err != nil {
			s.mu.Lock()
			s.problemLocked("dialog submission answered with something that is not a dialog response")
			s.mu.Unlock()
		} else if err := resp.IsValid(); err != nil {
			s.mu.Lock()
			s.problemLocked("dialog submission answered with an invalid response: %v", err)
			s.mu.Unlock()
		}
	}
	return resp, ans, nil
}

func hasOption(opts []*model.PostActionOptions, v string) bool {
	for _, o := range opts {
		if o.Value == v {
			return true
		}
	}
	return false
}

// Write is a person posting in a channel (or in their direct channel with the bot when
// channelID is ""): the post is made and every websocket of the bot gets a posted event.
// It returns the post's id.
func (s *Server) Write(user, channelID, message string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if channelID == "" {
		channelID = s.dmLocked(user, true)
	}
	ch := s.channels[channelID]
	p := &model.Post{ChannelId: channelID, UserId: user, Message: message}
	p.PreSave()
	s.posts[p.Id] = &stored{post: deepCopy(p)}
	s.broadcastPostLocked(p, ch)
	return p.Id
}

// Emit sends a posted event for an arbitrary post, for tests of what tend ignores.
func (s *Server) Emit(p *model.Post) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Id == "" {
		p.PreSave()
	}
	if ch := s.channels[p.ChannelId]; ch != nil {
		s.broadcastPostLocked(p, ch)
	}
}

// mentionOf reports whether a message mentions a username as the server reads it.
func mentionOf(message, username string) bool {
	if username == "" || !strings.Contains(message, "@") {
		return false
	}
	return regexp.MustCompile(`(?i)(^|[^\w])@` + regexp.QuoteMeta(username) + `($|[^\w-])`).MatchString(message)
}
