package slack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/adaptertest"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// The workspace the contract plays in.
const (
	contractTeam   = "T0CONTRACT"
	contractBoard  = "C0BOARD"
	contractApp    = "A0CONTRACT"
	contractToken  = "xoxb-contract"
	contractSecret = "c0ntract5ecret0f32charactersxxyy"
	// contractVerification is the deprecated verification token Slack still sends.
	contractVerification = "contractVerificationToken"
	// slackAckDeadline is how long Slack waits for an acknowledgement.
	slackAckDeadline = 3 * time.Second
)

// contractDriver plays people on Slack for the adapter contract suite, through Slack's
// wire format both ways. The adapter runs in HTTP mode: people act through signed
// requests to its endpoints, shaped as Slack sends them (a slash command form, a
// block_actions or view_submission payload); what they see is decoded from the Web API
// calls the adapter makes to a fake Slack (chat.postMessage, chat.postEphemeral,
// chat.update, posts to a response_url) and from the ephemeral answers to commands.
type contractDriver struct {
	t       *testing.T
	api     *fakeAPI
	adapter *Adapter
	// srv serves the adapter's HTTP-mode endpoints, the request URLs Slack calls.
	srv *httptest.Server

	mu   sync.Mutex
	seen []adaptertest.Seen
	// ims maps a DM channel to its person, as conversations.open answered.
	ims map[string]string
	// modals are the views opened with views.open, by trigger id.
	modals map[string]openedModal
	// responders are who sees what is posted to a response_url, by its id.
	responders map[string]responder
	n          int
	// admins are the people users.info calls admins of the workspace, by user id.
	admins map[string]bool
}

// openedModal is a modal the adapter opened: the view it sent and the id and hash Slack
// gave it.
type openedModal struct {
	ID, Hash string
	View     map[string]any
}

// responder is the person and channel behind a response_url.
type responder struct{ user, channel string }

// pressRef is what pressing a button takes on Slack: where its message is, the message's
// ts, and the block and action ids as Slack echoes them.
type pressRef struct {
	Where     string // the adaptertest place the message was seen in
	Channel   string
	MessageTS string
	Ephemeral bool
	BlockID   string
	ActionID  string // as sent, with any "#n" suffix
	Text      string // the message's fallback text
}

var _ adaptertest.Driver = (*contractDriver)(nil)

func newContractDriver(t *testing.T) *contractDriver {
	t.Helper()
	d := &contractDriver{t: t, ims: map[string]string{}, modals: map[string]openedModal{}, responders: map[string]responder{},
		admins: map[string]bool{}}
	d.api = newFakeAPI(t)
	d.api.watch(d.observe)
	a, err := New(Config{BotToken: contractToken, SigningSecret: contractSecret, Mode: ModeHTTP, APIURL: d.api.url()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.adapter = a
	return d
}

func TestContract(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		adaptertest.Run(t, db, newContractDriver(t))
	})
}

func (d *contractDriver) Adapter() bot.Adapter { return d.adapter }
func (d *contractDriver) Workspace() string    { return contractTeam }
func (d *contractDriver) Board() string        { return contractBoard }

// UserID is a Slack-like user id: "alice" is UALICE.
func (d *contractDriver) UserID(name string) string { return "U" + strings.ToUpper(name) }

// displayName is the name Slack shows for a person ("Alice"), which users.info gives as
// the profile's display_name. Slack sends only the handle ("alice") with their actions
// (user_name, user.name).
func displayName(name string) string { return strings.ToUpper(name[:1]) + name[1:] }

// person makes sure name is in the workspace users.info describes, and returns their
// user id.
func (d *contractDriver) person(name string) string {
	uid := d.UserID(name)
	d.api.addUser(uid, name, displayName(name), displayName(name)+" Tremblay")
	d.mu.Lock()
	admin := d.admins[uid]
	d.mu.Unlock()
	d.api.setAdmin(uid, admin, false)
	return uid
}

func (d *contractDriver) Connect(t *testing.T, h bot.Handler) {
	d.srv = httptest.NewServer(d.adapter.HTTPHandler(h))
	t.Cleanup(d.srv.Close)
}

func (d *contractDriver) Seen() []adaptertest.Seen {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]adaptertest.Seen(nil), d.seen...)
}

// --- what people see: the adapter's Web API calls ---

// observe decodes the Web API calls the adapter makes into what people see, and keeps
// the DM channels and modals Slack gave it.
func (d *contractDriver) observe(c call, answer map[string]any) {
	// The bot token travels in the Authorization header (JSON methods) or the form.
	if c.Method != "response_url" && c.Auth != "Bearer "+contractToken && c.Form.Get("token") != contractToken {
		d.t.Errorf("%s called without the bot token", c.Method)
	}
	if answer["ok"] != true {
		return
	}
	switch c.Method {
	case "conversations.open":
		ch, _ := answer["channel"].(map[string]any)
		d.mu.Lock()
		d.ims[str(ch["id"])] = c.Form.Get("users")
		d.mu.Unlock()
	case "chat.postMessage":
		ch := c.Form.Get("channel")
		d.record(d.where(ch), ch, str(answer["ts"]), false, false, c.Form.Get("text"), d.formBlocks(c))
	case "chat.postEphemeral":
		d.record("~"+c.Form.Get("user"), c.Form.Get("channel"), str(answer["message_ts"]), true, false, c.Form.Get("text"), d.formBlocks(c))
	case "chat.update":
		ch := c.Form.Get("channel")
		d.record(d.where(ch), ch, c.Form.Get("ts"), false, true, c.Form.Get("text"), d.formBlocks(c))
	case "response_url":
		d.mu.Lock()
		r, ok := d.responders[strings.TrimPrefix(c.Path, "/response/")]
		d.mu.Unlock()
		if !ok {
			d.t.Errorf("a post to an unknown response_url %s", c.Path)
			return
		}
		where, ephemeral := "~"+r.user, true
		if str(c.JSON["response_type"]) == "in_channel" {
			where, ephemeral = d.where(r.channel), false
		}
		d.record(where, r.channel, d.nextTS(), ephemeral, c.JSON["replace_original"] == true, str(c.JSON["text"]), jsonBlocks(c.JSON["blocks"]))
	case "views.open":
		view, _ := c.JSON["view"].(map[string]any)
		opened, _ := answer["view"].(map[string]any)
		d.mu.Lock()
		d.modals[str(c.JSON["trigger_id"])] = openedModal{ID: str(opened["id"]), Hash: str(opened["hash"]), View: view}
		d.mu.Unlock()
	}
}

// where names a channel the adaptertest way: "@<user>" for a person's DM with the bot,
// "#<channel>" otherwise.
func (d *contractDriver) where(channel string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if u, ok := d.ims[channel]; ok {
		return "@" + u
	}
	return "#" + channel
}

func (d *contractDriver) formBlocks(c call) []map[string]any {
	var out []map[string]any
	if raw := c.Form.Get("blocks"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &out); err != nil {
			d.t.Errorf("%s: blocks %q: %v", c.Method, raw, err)
		}
	}
	return out
}

func jsonBlocks(v any) []map[string]any {
	var out []map[string]any
	raw, _ := json.Marshal(v)
	_ = json.Unmarshal(raw, &out)
	return out
}

// record keeps a message as the person sees it: the text of its blocks (the fallback
// text when it has none) and its buttons.
func (d *contractDriver) record(where, channel, ts string, ephemeral, edit bool, fallback string, blocks []map[string]any) {
	s := adaptertest.Seen{Where: where, Edit: edit}
	var lines []string
	for i, b := range blocks {
		switch str(b["type"]) {
		case "header":
			lines = appendText(lines, b["text"])
		case "section":
			lines = appendText(lines, b["text"])
			for _, f := range list(b["fields"]) {
				lines = appendText(lines, f)
			}
		case "context":
			for _, e := range list(b["elements"]) {
				lines = appendText(lines, e)
			}
		case "actions":
			blockID := str(b["block_id"])
			if blockID == "" {
				blockID = fmt.Sprintf("blk%s.%d", ts, i) // Slack names a block that came without an id
			}
			for _, e := range list(b["elements"]) {
				el, _ := e.(map[string]any)
				if str(el["type"]) != "button" {
					continue
				}
				label, _ := el["text"].(map[string]any)
				s.Buttons = append(s.Buttons, adaptertest.Button{
					Label: str(label["text"]), Action: actionSuffix.ReplaceAllString(str(el["action_id"]), ""), Payload: str(el["value"]),
					Ref: pressRef{Where: where, Channel: channel, MessageTS: ts, Ephemeral: ephemeral, BlockID: blockID,
						ActionID: str(el["action_id"]), Text: fallback},
				})
			}
		}
	}
	if len(blocks) == 0 {
		lines = append(lines, slackUnescape(fallback))
	}
	s.Text = strings.Join(lines, "\n")
	d.mu.Lock()
	d.seen = append(d.seen, s)
	d.mu.Unlock()
}

// actionSuffix is the "#n" the adapter adds to repeated action ids in a message.
var actionSuffix = regexp.MustCompile(`#[0-9]+$`)

var slackUnescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

func slackUnescape(s string) string { return slackUnescaper.Replace(s) }

// slackEscape escapes text the way Slack sends what people typed.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// appendText adds the visible text of a text object: mrkdwn as it reads, plain_text as
// it is. Images and other elements have none.
func appendText(lines []string, v any) []string {
	o, _ := v.(map[string]any)
	t := str(o["text"])
	switch str(o["type"]) {
	case "mrkdwn":
		t = slackUnescape(t)
	case "plain_text":
	default:
		return lines
	}
	if t == "" {
		return lines
	}
	return append(lines, t)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// --- what people do: signed requests to the adapter's endpoints ---

func (d *contractDriver) next() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n++
	return d.n
}

// nextTS is a message ts for messages Slack shows without a Web API call (a command's
// ephemeral answer), and an action_ts.
func (d *contractDriver) nextTS() string { return fmt.Sprintf("1800000000.%06d", d.next()) }

// trigger is a fresh trigger id, shaped as Slack's.
func (d *contractDriver) trigger() string {
	n := d.next()
	return fmt.Sprintf("%d.738474920.%032x", 13345224609+n, n)
}

// responseURL is a fresh response_url at the fake for what user sees in channel.
func (d *contractDriver) responseURL(user, channel string) string {
	id := fmt.Sprintf("%s/%d", user, d.next())
	d.mu.Lock()
	d.responders[id] = responder{user: user, channel: channel}
	d.mu.Unlock()
	return d.api.responseURL(id)
}

// post sends a signed, form-encoded request to one of the adapter's endpoints as Slack
// does, checks it is acknowledged in time, and waits for the work that follows the
// acknowledgement. It returns the acknowledgement's body.
func (d *contractDriver) post(t *testing.T, path string, form url.Values) []byte {
	t.Helper()
	return d.postBody(t, path, "application/x-www-form-urlencoded", form.Encode())
}

// postBody is post with a body of any type (the Events API sends JSON).
func (d *contractDriver) postBody(t *testing.T, path, contentType, body string) []byte {
	t.Helper()
	if d.srv == nil {
		t.Fatal("the driver is not connected")
	}
	req, err := http.NewRequest(http.MethodPost, d.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ts, sig := sign(contractSecret, time.Now(), body)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	start := time.Now()
	resp, err := d.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	ack, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("POST %s: reading the acknowledgement: %v", path, err)
	}
	if took := time.Since(start); took > slackAckDeadline {
		t.Errorf("POST %s acknowledged after %s; Slack gives up after %s", path, took, slackAckDeadline)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: status %d: %s", path, resp.StatusCode, ack)
	}
	d.adapter.bg.Wait()
	return bytes.TrimSpace(ack)
}

// payload posts an interaction payload to the interactivity endpoint.
func (d *contractDriver) payload(t *testing.T, p map[string]any) []byte {
	t.Helper()
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return d.post(t, PathInteractivity, url.Values{"payload": {string(raw)}})
}

func (d *contractDriver) user(name string) map[string]any {
	return map[string]any{"id": d.person(name), "username": name, "name": name, "team_id": contractTeam}
}

func (d *contractDriver) Command(t *testing.T, user, text string) {
	t.Helper()
	d.command(t, user, text)
}

// command types "/tend <text>" in the board channel and records the ephemeral answer;
// it returns the command's trigger id.
func (d *contractDriver) command(t *testing.T, user, text string) string {
	t.Helper()
	return d.commandIn(t, user, contractBoard, text)
}

// commandIn is command in another channel.
func (d *contractDriver) commandIn(t *testing.T, user, channel, text string) string {
	t.Helper()
	uid, trigger := d.person(user), d.trigger()
	ack := d.post(t, PathCommands, url.Values{
		"token": {contractVerification}, "team_id": {contractTeam}, "team_domain": {"contract"},
		"channel_id": {channel}, "channel_name": {channelName(channel)}, "user_id": {uid}, "user_name": {user},
		"command": {Command}, "text": {slackEscape(text)}, "api_app_id": {contractApp}, "is_enterprise_install": {"false"},
		"response_url": {d.responseURL(uid, channel)}, "trigger_id": {trigger},
	})
	if len(ack) == 0 {
		return trigger
	}
	var resp struct {
		ResponseType string           `json:"response_type"`
		Text         string           `json:"text"`
		Blocks       []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(ack, &resp); err != nil {
		t.Fatalf("/tend %s: the acknowledgement is not a message: %s (%v)", text, ack, err)
	}
	if resp.ResponseType == "in_channel" {
		d.record("#"+channel, channel, d.nextTS(), false, false, resp.Text, resp.Blocks)
	} else {
		d.record("~"+uid, channel, d.nextTS(), true, false, resp.Text, resp.Blocks)
	}
	return trigger
}

// Leave deactivates the person's account, as a workspace admin does when someone leaves:
// Slack sends user_change to the Events API with the whole user object, "deleted": true.
func (d *contractDriver) Leave(t *testing.T, user string) {
	t.Helper()
	uid, n := d.person(user), d.next()
	at := 1800000000 + n
	body, err := json.Marshal(map[string]any{
		"token": contractVerification, "team_id": contractTeam, "api_app_id": contractApp,
		"event": map[string]any{
			"type": "user_change", "cache_ts": at, "event_ts": d.nextTS(),
			"user": map[string]any{
				"id": uid, "team_id": contractTeam, "name": user, "deleted": true, "color": "9f69e7",
				"real_name": displayName(user) + " Tremblay", "tz": "America/Toronto", "tz_label": "Eastern Standard Time", "tz_offset": -18000,
				"profile": map[string]any{"real_name": displayName(user) + " Tremblay", "display_name": displayName(user),
					"real_name_normalized": displayName(user) + " Tremblay", "display_name_normalized": displayName(user), "team": contractTeam},
				"is_admin": false, "is_owner": false, "is_primary_owner": false, "is_restricted": false, "is_ultra_restricted": false,
				"is_bot": false, "is_app_user": false, "updated": at, "is_email_confirmed": true, "who_can_share_contact_card": "EVERYONE",
			},
		},
		"type": "event_callback", "event_id": fmt.Sprintf("Ev0LEAVE%04d", n), "event_time": at,
		"authorizations": []any{map[string]any{"enterprise_id": nil, "team_id": contractTeam, "user_id": "U0CONTRACTBOT",
			"is_bot": true, "is_enterprise_install": false}},
		"is_ext_shared_channel": false, "event_context": fmt.Sprintf("4-eyJldCI6InVzZXJfY2hhbmdlIn0-%d", n),
	})
	if err != nil {
		t.Fatal(err)
	}
	if ack := d.postBody(t, PathEvents, "application/json", string(body)); len(ack) != 0 {
		t.Errorf("an event is acknowledged with an empty body, got %s", ack)
	}
}

// Press sends the block_actions payload of a click on the button.
func (d *contractDriver) Press(t *testing.T, user string, b adaptertest.Button) {
	t.Helper()
	d.press(t, user, b)
}

// press is Press; it returns the click's trigger id.
func (d *contractDriver) press(t *testing.T, user string, b adaptertest.Button) string {
	t.Helper()
	ref, ok := b.Ref.(pressRef)
	if !ok {
		t.Fatalf("button %q was not seen on Slack (ref %T)", b.Label, b.Ref)
	}
	uid := d.UserID(user)
	if !strings.HasPrefix(ref.Where, "#") && ref.Where != "@"+uid && ref.Where != "~"+uid {
		t.Fatalf("%s cannot press %q: it was shown in %s", user, b.Label, ref.Where)
	}
	name := channelName(ref.Channel)
	if strings.HasPrefix(ref.Where, "@") {
		name = "directmessage"
	}
	trigger := d.trigger()
	action := map[string]any{"action_id": ref.ActionID, "block_id": ref.BlockID, "type": "button", "action_ts": d.nextTS(),
		"text": map[string]any{"type": "plain_text", "text": b.Label, "emoji": true}}
	if b.Payload != "" {
		action["value"] = b.Payload
	}
	p := map[string]any{
		"type": "block_actions", "user": d.user(user), "api_app_id": contractApp, "token": contractVerification,
		"container":  map[string]any{"type": "message", "message_ts": ref.MessageTS, "channel_id": ref.Channel, "is_ephemeral": ref.Ephemeral},
		"trigger_id": trigger, "team": map[string]any{"id": contractTeam, "domain": "contract"}, "enterprise": nil,
		"is_enterprise_install": false, "channel": map[string]any{"id": ref.Channel, "name": name},
		"response_url": d.responseURL(uid, ref.Channel), "actions": []any{action}, "state": map[string]any{"values": map[string]any{}},
	}
	if !ref.Ephemeral {
		p["message"] = map[string]any{"type": "message", "ts": ref.MessageTS, "text": ref.Text, "bot_id": "B0CONTRACT"}
	}
	if ack := d.payload(t, p); len(ack) != 0 {
		t.Errorf("a button press is acknowledged with an empty body, got %s", ack)
	}
	return trigger
}

// Submit types "/tend <command>", fills in the modal the adapter opens with values and
// submits it, as Slack sends a view_submission: every input block in state.values,
// with the person's value, or the initial one where they typed nothing.
func (d *contractDriver) Submit(t *testing.T, user, command string, values map[string]string) {
	t.Helper()
	mark := len(d.Seen())
	trigger := d.command(t, user, command)
	d.mu.Lock()
	m, ok := d.modals[trigger]
	d.mu.Unlock()
	if !ok {
		var shown []string
		for _, s := range d.Seen()[mark:] {
			shown = append(shown, fmt.Sprintf("[%s] %s", s.Where, strings.ReplaceAll(s.Text, "\n", " | ")))
		}
		t.Fatalf("/tend %s opened no modal; %s saw:\n%s", command, user, strings.Join(shown, "\n"))
	}
	d.submitModal(t, user, command, m, values)
}
