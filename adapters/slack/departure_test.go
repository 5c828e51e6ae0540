package slack

import (
	"net/http"
	"testing"

	"github.com/tend-community/tend/bot"
)

// userChange is a user_change event as Slack documents it, with the user object as sent
// when a workspace admin deactivates the account ("deleted": true) or when a profile
// changes ("deleted": false).
func userChange(eventID, deleted, isBot string) string {
	return `{"token":"XXYYZZ","team_id":"T1","api_app_id":"A1","event":{"type":"user_change","user":{"id":"U1234567","team_id":"T1",` +
		`"name":"some-user","deleted":` + deleted + `,"color":"4bbe2e","real_name":"Some User","tz":"America/Los_Angeles",` +
		`"tz_label":"Pacific Daylight Time","tz_offset":-25200,"profile":{"title":"","phone":"","skype":"","real_name":"Some User",` +
		`"real_name_normalized":"Some User","display_name":"Some","display_name_normalized":"Some","fields":{},"status_text":"",` +
		`"status_emoji":"","status_expiration":0,"avatar_hash":"g12345678910","first_name":"Some","last_name":"User","team":"T1"},` +
		`"is_admin":false,"is_owner":false,"is_primary_owner":false,"is_restricted":false,"is_ultra_restricted":false,"is_bot":` + isBot + `,` +
		`"is_app_user":false,"updated":1648596421,"is_email_confirmed":true,"who_can_share_contact_card":"EVERYONE"},` +
		`"cache_ts":1648596421,"event_ts":"1648596712.000001"},"type":"event_callback","event_id":"` + eventID + `","event_time":1648596712}`
}

// A deactivated account is a member-left event with Slack's event id (a retry carries the
// same id, which the bot's inbox absorbs); a profile change, a bot, and leaving a channel
// are not. Nothing is said to anyone.
func TestUserDeactivatedIsMemberLeft(t *testing.T) {
	tests := []struct {
		name, body string
		want       bool
	}{
		{"deactivated", userChange("Ev0DEACT1", "true", "false"), true},
		{"profile change", userChange("Ev0PROF1", "false", "false"), false},
		{"a bot removed", userChange("Ev0BOT1", "true", "true"), false},
		{"left the board channel", `{"token":"XXYYZZ","team_id":"T1","api_app_id":"A1","event":{"type":"member_left_channel",` +
			`"user":"U1234567","channel":"C0BOARD","channel_type":"C","team":"T1"},"type":"event_callback","event_id":"Ev0CHAN1","event_time":1648596712}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			a := newTestAdapter(t, f, ModeHTTP, nil)
			rec := &recorder{}
			h := a.HTTPHandler(rec)
			for range 2 {
				if w := serve(h, signedRequest(PathEvents, "application/json", tt.body)); w.Code != http.StatusOK || w.Body.Len() != 0 {
					t.Fatalf("answer %d %q", w.Code, w.Body.String())
				}
			}
			a.bg.Wait()
			evs := rec.got()
			if !tt.want {
				if len(evs) != 0 {
					t.Fatalf("events %+v", evs)
				}
				return
			}
			if len(evs) != 2 || evs[0].ID != "Ev0DEACT1" || evs[1].ID != evs[0].ID {
				t.Fatalf("events %+v", evs)
			}
			ev := evs[0]
			if ev.Kind != bot.EventMemberLeft || ev.Platform != Platform || ev.Workspace != "T1" || ev.UserID != "U1234567" ||
				ev.UserName != "Some" || ev.InDM || ev.ChannelID != "" {
				t.Errorf("event %+v", ev)
			}
			if n := len(f.callsTo("chat.postMessage")) + len(f.callsTo("users.info")); n != 0 {
				t.Errorf("%d Web API calls for a departure", n)
			}
		})
	}
}
