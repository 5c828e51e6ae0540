package slack

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tend-community/tend/bot/adaptertest"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// contractMods is the private channel the contract's moderators use.
const contractMods = "C0MODS"

var _ adaptertest.SetupDriver = (*contractDriver)(nil)

// channelName is a channel's name, as slash commands and interactions carry it.
func channelName(channel string) string {
	switch {
	case channel == contractMods:
		return "moderators"
	case strings.HasPrefix(channel, "D"):
		return "directmessage"
	}
	return "board"
}

// SetAdmin makes users.info call the person an admin of the workspace (is_admin), or not.
// The adapter keeps what users.info said for an hour; the driver forgets it, as if that
// hour had passed.
func (d *contractDriver) SetAdmin(t *testing.T, user string, admin bool) {
	uid := d.UserID(user)
	d.mu.Lock()
	d.admins[uid] = admin
	d.mu.Unlock()
	d.person(user)
	d.adapter.mu.Lock()
	delete(d.adapter.names, uid)
	d.adapter.mu.Unlock()
}

func (d *contractDriver) ModeratorsChannel() string { return contractMods }

func (d *contractDriver) CommandIn(t *testing.T, user, channel, text string) {
	t.Helper()
	d.commandIn(t, user, channel, text)
}

// SubmitFrom clicks the button, which must open form as a modal with the click's
// trigger id, and submits the modal filled in with values.
func (d *contractDriver) SubmitFrom(t *testing.T, user string, b adaptertest.Button, form string, values map[string]string) {
	t.Helper()
	trigger := d.press(t, user, b)
	d.mu.Lock()
	m, ok := d.modals[trigger]
	d.mu.Unlock()
	if !ok {
		t.Fatalf("clicking %q opened no modal", b.Label)
	}
	if id := str(m.View["callback_id"]); id != form {
		t.Fatalf("clicking %q opened the modal %q, not %q", b.Label, id, form)
	}
	d.submitModal(t, user, form, m, values)
}

func TestSetupFromChat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		adaptertest.RunSetup(t, db, newContractDriver(t))
	})
}

// submitModal fills in a modal the adapter opened with values and submits it, as Slack
// sends a view_submission: every input block in state.values, with the person's value,
// or the initial one where they typed nothing. what names the modal in failures.
func (d *contractDriver) submitModal(t *testing.T, user, what string, m openedModal, values map[string]string) {
	t.Helper()
	state := map[string]any{}
	filled := map[string]bool{}
	for _, blk := range list(m.View["blocks"]) {
		b, _ := blk.(map[string]any)
		if str(b["type"]) != "input" {
			continue
		}
		field := str(b["block_id"])
		el, _ := b["element"].(map[string]any)
		v, given := values[field]
		filled[field] = given
		var answer map[string]any
		empty := false
		switch typ := str(el["type"]); typ {
		case "plain_text_input":
			var val any // null: left empty
			if given {
				val = v
			} else if iv := str(el["initial_value"]); iv != "" {
				val = iv
			}
			if n, ok := el["max_length"].(float64); ok && len([]rune(str(val))) > int(n) {
				t.Fatalf("%s modal: %q is longer than field %s allows (%d)", what, v, field, int(n))
			}
			empty = str(val) == ""
			answer = map[string]any{"type": typ, "value": val}
		case "static_select":
			var sel any // null: nothing picked
			if given {
				for _, o := range list(el["options"]) {
					if opt, _ := o.(map[string]any); str(opt["value"]) == v {
						sel = opt
					}
				}
				if sel == nil {
					t.Fatalf("%s modal: %q is not an option of %s: %v", what, v, field, el["options"])
				}
			} else if io, ok := el["initial_option"].(map[string]any); ok {
				sel = io
			}
			empty = sel == nil
			answer = map[string]any{"type": typ, "selected_option": sel}
		default:
			t.Fatalf("%s modal: field %s is a %q, which the driver cannot fill", what, field, typ)
		}
		if empty && b["optional"] != true {
			t.Fatalf("%s modal: required field %s left empty: Slack would not submit it", what, field)
		}
		state[field] = map[string]any{str(el["action_id"]): answer}
	}
	for field := range values {
		if _, ok := filled[field]; !ok {
			t.Fatalf("%s modal has no field %q", what, field)
		}
	}
	view := map[string]any{}
	for k, v := range m.View {
		view[k] = v
	}
	for k, v := range map[string]any{"id": m.ID, "hash": m.Hash, "team_id": contractTeam, "app_id": contractApp,
		"bot_id": "B0CONTRACT", "root_view_id": m.ID, "previous_view_id": nil, "state": map[string]any{"values": state}} {
		view[k] = v
	}
	ack := d.payload(t, map[string]any{
		"type": "view_submission", "team": map[string]any{"id": contractTeam, "domain": "contract"}, "user": d.user(user),
		"api_app_id": contractApp, "token": contractVerification, "trigger_id": d.trigger(), "view": view,
		"response_urls": []any{}, "is_enterprise_install": false, "enterprise": nil,
	})
	if len(ack) == 0 {
		return // the modal closes
	}
	var ans struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	if err := json.Unmarshal(ack, &ans); err != nil {
		t.Fatalf("%s modal: the acknowledgement is not a view response: %s (%v)", what, ack, err)
	}
	switch ans.ResponseAction {
	case "clear":
	case "errors":
		t.Fatalf("%s modal answered with errors: %v", what, ans.Errors)
	default:
		t.Fatalf("%s modal answered %s; the driver submits one modal only", what, ack)
	}
}
