package mattermost

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tend-community/tend/adapters/mattermost/mattermosttest"
	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/store"
	"github.com/tend-community/tend/store/storetest"
)

// outcomes counts what the bot made of each event, by outcome.
type outcomes struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *outcomes) Event(_, _, outcome string, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.n[outcome]++
}
func (o *outcomes) Delivery(string, string) {}

func (o *outcomes) total() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, v := range o.n {
		n += v
	}
	return n
}

func (o *outcomes) get(k string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[k]
}

// TestTwoReplicas runs two replicas (two adapters, two bots) on one database against one
// server: each replica's websocket gets every event, and the inbox lets each be handled
// once; the answers, posted by both replicas under the same pending id or ephemeral id,
// show once.
func TestTwoReplicas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv := mattermosttest.New(t, mattermosttest.Options{Token: testToken})
		team := srv.AddTeam("hospice")
		var people []string
		for i := 0; i < 4; i++ {
			u := srv.AddUser(mattermosttest.User{Username: fmt.Sprintf("p%d", i)})
			srv.AddMember(team, u.ID, false)
			people = append(people, u.ID)
		}
		board := srv.AddChannel(team, "board", people...)
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ApplyCommunity(ctx, store.CommunitySetup{
				Community: store.Community{Slug: "replicas", Name: "Replicas", Locale: "en", Timezone: "UTC", RetentionDays: 30},
				Bindings:  []store.Binding{{Platform: Platform, Workspace: team, BoardChannel: board, ModeratorsChannel: "moderators"}},
			})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		cat, err := catalog.New()
		if err != nil {
			t.Fatal(err)
		}
		counts := &outcomes{n: map[string]int{}}
		var wg sync.WaitGroup
		runCtx, cancel := context.WithCancel(ctx)
		var ads []*Adapter
		for i := 0; i < 2; i++ {
			ad, err := New(Config{URL: srv.URL(), Token: testToken, CallbackURL: "http://tend.invalid", ActionSecret: testSecret,
				HTTPClient: srv.Client(), PingInterval: time.Hour, MinBackoff: 10 * time.Millisecond}, nil)
			if err != nil {
				t.Fatal(err)
			}
			app := bot.New(bot.Options{DB: db, Catalog: cat, Metrics: counts})
			app.Attach(ad)
			stop := app.StartDelivery(2)
			ads = append(ads, ad)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer stop()
				if err := ad.Run(runCtx, app); err != nil {
					t.Errorf("replica run: %v", err)
				}
			}()
		}
		defer func() { cancel(); wg.Wait() }()
		srv.WaitConnections(t, 2)

		const rounds = 3
		for k := 0; k < rounds; k++ {
			for _, p := range people {
				srv.Write(p, "", fmt.Sprintf("hello %d", k))
			}
		}
		srv.Write(people[0], board, "@tend help")
		srv.Write(people[1], board, "@tend privacy")
		events := rounds*len(people) + 2
		waitFor(t, "every copy handled", func() bool { return counts.total() >= 2*events })
		for _, ad := range ads {
			waitFor(t, "quiet", func() bool { return ad.busy.Load() == 0 })
		}
		// Strangers writing to the bot are "unbound": they have not joined yet.
		if total, dup, failed := counts.total(), counts.get("duplicate"), counts.get("error"); total != 2*events || dup != events || failed != 0 {
			t.Fatalf("%d deliveries, %d copies, %d errors; want %d, %d, 0 (%v)", total, dup, failed, 2*events, events, counts.n)
		}
		// Every event got its answer once on screen.
		shown := map[string]int{}
		for _, m := range srv.Messages() {
			if !m.Edit {
				shown[m.DMUser+m.EphemeralTo]++
			}
		}
		for i, p := range people {
			want := rounds
			if i < 2 {
				want++ // the ephemeral answer to the mention
			}
			if shown[p] != want {
				t.Errorf("person %d saw %d answers, want %d", i, shown[p], want)
			}
		}
		if p := srv.Problems(); len(p) > 0 {
			t.Errorf("protocol problems: %v", p)
		}
	})
}
