package flows_test

import (
	"testing"

	"github.com/tend-community/tend/bot/bottest"
	"github.com/tend-community/tend/safety"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// lists is the real detector with every language's lists, as serve runs it.
type lists struct{ l *safety.Lists }

func (s lists) Screen(_ int64, text string) string {
	sig := s.l.Screen(text)
	if sig.Tier == safety.TierNone {
		return ""
	}
	return sig.Tier.String()
}

// A bilingual community catches a French phrase from an English-speaking member, and
// the grief talk of a palliative community does not raise a case.
func TestBilingualScreening(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		l, err := safety.Default("en", "fr")
		if err != nil {
			t.Fatal(err)
		}
		h := bottest.New(t, db, "en")
		h.App.Flows().SetScreener(lists{l})
		h.Join("alice")
		h.Fake.Take()
		tests := []struct {
			summary string
			held    bool
		}{
			{"Ride to the clinic please, je veux mourir", true},
			{"Ride to the funeral home, Mom passed peacefully last week", false},
			{"Ride to my MAID appointment (medical assistance in dying)", false},
		}
		for _, tt := range tests {
			before := count(t, db, `SELECT COUNT(*) FROM escalations`)
			sent := h.Ask("alice", map[string]string{"summary": tt.summary})
			held := count(t, db, `SELECT COUNT(*) FROM escalations`) > before
			if held != tt.held {
				t.Errorf("%q: held = %v, want %v\n%s", tt.summary, held, tt.held, bottest.Dump(sent))
			}
		}
	})
}
