package mattermost

import (
	"net/http"
	"testing"

	"github.com/tend-community/tend/adapters/mattermost/mattermosttest"
	"github.com/tend-community/tend/bot/adaptertest"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

var _ adaptertest.SetupDriver = (*contractDriver)(nil)

// SetAdmin makes the person a team administrator (team_admin), or a plain member. The
// adapter trusts what the server said about a person for a minute; the driver forgets
// it, as if that minute had passed.
func (d *contractDriver) SetAdmin(t *testing.T, user string, admin bool) {
	uid := d.UserID(user)
	if uid == "" {
		t.Fatalf("no such person %q on the fake server", user)
	}
	d.r.srv.AddMember(d.r.team, uid, admin)
	d.r.ad.mu.Lock()
	delete(d.r.ad.people, d.r.team+"/"+uid)
	d.r.ad.mu.Unlock()
}

func (d *contractDriver) ModeratorsChannel() string { return d.r.mods }

// CommandIn types "/tend <text>" in channel.
func (d *contractDriver) CommandIn(t *testing.T, user, channel, text string) {
	t.Helper()
	ans, err := d.r.srv.Command(d.r.users[user], channel, text)
	if err != nil || ans.Status != http.StatusOK {
		t.Fatalf("/tend %s by %s in %s: %v (HTTP %d %s)", text, user, channel, err, ans.Status, ans.Body)
	}
}

// SubmitFrom presses the button, which must open form as an interactive dialog with the
// press's trigger id, and submits the dialog with values from the button's channel.
func (d *contractDriver) SubmitFrom(t *testing.T, user string, b adaptertest.Button, form string, values map[string]string) {
	t.Helper()
	ref, ok := b.Ref.(pressRef)
	if !ok {
		t.Fatalf("button %q was not seen on Mattermost (ref %T)", b.Label, b.Ref)
	}
	post, ok := d.r.srv.Post(ref.post)
	if !ok {
		t.Fatalf("button %q is on a post the server does not have", b.Label)
	}
	uid := d.r.users[user]
	before := d.r.srv.Dialogs(uid)
	if ans := d.r.press(user, ref, ""); ans.Status != http.StatusOK {
		t.Fatalf("pressing %q: HTTP %d %s", b.Label, ans.Status, ans.Body)
	}
	if d.r.srv.Dialogs(uid) == before {
		t.Fatalf("pressing %q opened no dialog", b.Label)
	}
	dlg, _ := d.r.srv.Dialog(uid)
	if id := dlg.Dialog.CallbackId; id != form {
		t.Fatalf("pressing %q opened the dialog %q, not %q", b.Label, id, form)
	}
	resp, ans, err := d.r.srv.Submit(uid, post.ChannelId, values)
	if err != nil || ans.Status != http.StatusOK {
		t.Fatalf("%s dialog: submitting: %v (HTTP %d %s)", form, err, ans.Status, ans.Body)
	}
	if len(resp.Errors) > 0 || resp.Error != "" {
		t.Fatalf("%s dialog refused the answers: %v %s", form, resp.Errors, resp.Error)
	}
}

// TestSetupFromChat sets tend up from chat on a team no community uses yet, with a bot
// that may post ephemeral messages and with a plain one.
func TestSetupFromChat(t *testing.T) {
	for name, opts := range map[string][]func(*mattermosttest.Options){"ephemeral": {withEphemeral}, "member": nil} {
		t.Run(name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				adaptertest.RunSetup(t, db, &contractDriver{r: newRig(t, Config{}, opts...)})
			})
		})
	}
}
