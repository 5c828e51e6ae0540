package mattermost

import (
	"testing"

	"github.com/tend-community/tend/bot/adaptertest"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, Config{})
		r.staleOK = true
		adaptertest.Run(t, db, &contractDriver{r: r})
	})
}
