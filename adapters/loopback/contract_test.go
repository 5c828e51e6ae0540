package loopback

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/adaptertest"
	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// driver plays people over the loopback wire format: events POSTed as JSON, replies in
// the HTTP answer, deliveries POSTed to a receiver.
type driver struct {
	adapter *Adapter
	intake  *httptest.Server
	mu      sync.Mutex
	seen    []adaptertest.Seen
	n       int
	// admins are the people the platform calls administrators of the space.
	admins map[string]bool
}

func newDriver(t *testing.T) *driver {
	d := &driver{admins: map[string]bool{}}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var o Outgoing
		if err := json.NewDecoder(r.Body).Decode(&o); err != nil {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		d.record(where(o.To), o.Msg, o.MessageID != "")
		_ = json.NewEncoder(w).Encode(Accepted{MessageID: "m-" + o.Key})
	}))
	t.Cleanup(recv.Close)
	d.adapter = New(recv.URL, recv.Client())
	return d
}

func where(to bot.Destination) string {
	switch to.Kind {
	case bot.DestChannel:
		return "#" + to.ChannelID
	case bot.DestDM:
		return "@" + to.UserID
	default:
		return "~" + to.UserID
	}
}

func (d *driver) record(w string, m bot.Rendered, edit bool) {
	s := adaptertest.Seen{Where: w, Edit: edit, Text: m.Title + "\n" + strings.Join(m.Body, "\n")}
	for _, f := range m.Fields {
		s.Text += "\n" + f.Label + ": " + f.Value
	}
	for _, b := range m.Buttons {
		s.Buttons = append(s.Buttons, adaptertest.Button{Label: b.Label, Action: b.Action, Payload: b.Payload})
	}
	d.mu.Lock()
	d.seen = append(d.seen, s)
	d.mu.Unlock()
}

func (d *driver) Adapter() bot.Adapter { return d.adapter }
func (d *driver) Workspace() string    { return "lw" }
func (d *driver) Board() string        { return "board" }
func (d *driver) UserID(n string) string {
	return "u-" + n
}

func (d *driver) Connect(t *testing.T, h bot.Handler) {
	d.intake = httptest.NewServer(Intake(h))
	t.Cleanup(d.intake.Close)
}

// post sends an event as the person (in the board channel unless it names another) and
// records the reply; it returns the reply.
func (d *driver) post(t *testing.T, user string, ev bot.Event) bot.Reply {
	t.Helper()
	d.mu.Lock()
	d.n++
	ev.ID = fmt.Sprintf("ev-%d", d.n)
	ev.PlatformAdmin = d.admins[user]
	d.mu.Unlock()
	ev.Workspace, ev.UserID, ev.UserName = d.Workspace(), d.UserID(user), strings.ToUpper(user[:1])+user[1:]
	if !ev.InDM && ev.ChannelID == "" {
		ev.ChannelID = d.Board()
	}
	body, _ := json.Marshal(ev)
	resp, err := d.intake.Client().Post(d.intake.URL, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r bot.Reply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("intake answered %d: %v", resp.StatusCode, err)
	}
	w := "~" + ev.UserID
	if r.InDM {
		w = "@" + ev.UserID
	}
	for _, m := range r.Messages {
		d.record(w, m, false)
	}
	return r
}

func (d *driver) Command(t *testing.T, user, text string) {
	f := strings.Fields(text)
	d.post(t, user, bot.Event{Kind: bot.EventCommand, Command: f[0], Args: f[1:]})
}

// Submit sends the form whole: the loopback platform submits forms the way a modal does.
func (d *driver) Submit(t *testing.T, user, command string, values map[string]string) {
	d.post(t, user, bot.Event{Kind: bot.EventForm, FormID: command, Values: values})
}

func (d *driver) Press(t *testing.T, user string, b adaptertest.Button) {
	d.post(t, user, bot.Event{Kind: bot.EventButton, Action: b.Action, Payload: b.Payload})
}

// Leave posts the member-left event, as the loopback platform sends any event.
func (d *driver) Leave(t *testing.T, user string) {
	d.post(t, user, bot.Event{Kind: bot.EventMemberLeft})
}

func (d *driver) Seen() []adaptertest.Seen {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]adaptertest.Seen(nil), d.seen...)
}

func TestContract(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		adaptertest.Run(t, db, newDriver(t))
	})
}

// --- setting up from chat ---

var _ adaptertest.SetupDriver = (*driver)(nil)

// SetAdmin says, in the person's next events, whether they administer the space: the
// loopback platform sends platform_admin in the event's JSON.
func (d *driver) SetAdmin(t *testing.T, user string, admin bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.admins[user] = admin
}

func (d *driver) ModeratorsChannel() string { return "mods" }

func (d *driver) CommandIn(t *testing.T, user, channel, text string) {
	f := strings.Fields(text)
	d.post(t, user, bot.Event{Kind: bot.EventCommand, Command: f[0], Args: f[1:], ChannelID: channel})
}

// SubmitFrom presses the button and submits the form the reply opens, whole, as a form
// event with the form's id and payload: every value must be one of its fields, a
// choice one of its options, and every required field answered or defaulted.
func (d *driver) SubmitFrom(t *testing.T, user string, b adaptertest.Button, form string, values map[string]string) {
	t.Helper()
	r := d.post(t, user, bot.Event{Kind: bot.EventButton, Action: b.Action, Payload: b.Payload})
	if r.Form == nil || r.Form.ID != form {
		t.Fatalf("pressing %q opened %+v, not form %s", b.Label, r.Form, form)
	}
	fields := map[string]bool{}
	for _, f := range r.Form.Fields {
		fields[f.Name] = true
		v, given := values[f.Name]
		if !given && f.Required && f.Default == "" {
			t.Fatalf("%s: required field %s left empty", form, f.Name)
		}
		if given && f.Kind == string(ui.FieldChoice) && !slices.ContainsFunc(f.Options, func(o bot.RenderedOption) bool { return o.Value == v }) {
			t.Fatalf("%s: %q is not an option of %s: %+v", form, v, f.Name, f.Options)
		}
	}
	for name := range values {
		if !fields[name] {
			t.Fatalf("%s has no field %q", form, name)
		}
	}
	r = d.post(t, user, bot.Event{Kind: bot.EventForm, FormID: r.Form.ID, FormPayload: r.Form.Payload, Values: values})
	if len(r.FieldErrors) > 0 {
		t.Fatalf("%s was refused: %v", form, r.FieldErrors)
	}
}

func TestSetupFromChat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		adaptertest.RunSetup(t, db, newDriver(t))
	})
}
