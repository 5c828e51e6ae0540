package discord

import (
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/tend-community/tend/bot/adaptertest"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// testMods is the private channel the contract's moderators use.
const testMods = "800000000000000011"

var _ adaptertest.SetupDriver = (*contractDriver)(nil)

// SetAdmin gives the person "Manage Server" in the guild, or no permission at all:
// Discord computes the member's permissions into every interaction they make.
func (d *contractDriver) SetAdmin(t *testing.T, user string, admin bool) {
	var bits int64
	if admin {
		bits = discordgo.PermissionManageGuild
	}
	d.r.srv.SetPermissions(testGuild, testUsers[user].ID, bits)
}

func (d *contractDriver) ModeratorsChannel() string { return testMods }

func (d *contractDriver) CommandIn(t *testing.T, user, channel, text string) {
	d.r.commandIn(user, channel, text)
}

// SubmitFrom presses the button, which must answer with the form's first modal, and
// answers the form part after part.
func (d *contractDriver) SubmitFrom(t *testing.T, user string, b adaptertest.Button, form string, values map[string]string) {
	ref, ok := b.Ref.(buttonRef)
	if !ok {
		t.Fatalf("button %q was not seen on Discord (ref %T)", b.Label, b.Ref)
	}
	d.r.fill(user, ref.channel, d.r.press(user, ref), form, values)
}

func TestSetupFromChat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		adaptertest.RunSetup(t, db, &contractDriver{r: newRig(t, Config{})})
	})
}
