package mattermost

import (
	"testing"

	"github.com/tend-community/tend/adapters/mattermost/mattermosttest"
	"github.com/tend-community/tend/bot/adaptertest"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// TestContract plays the contract twice: with a bot that may post ephemeral messages
// (a System Admin), and with a plain bot, whose private answers come in the slash
// command's response or in direct messages.
func TestContract(t *testing.T) {
	for name, opts := range map[string][]func(*mattermosttest.Options){"ephemeral": {withEphemeral}, "member": nil} {
		t.Run(name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				r := newRig(t, Config{}, opts...)
				r.staleOK = true
				adaptertest.Run(t, db, &contractDriver{r: r})
			})
		})
	}
}
