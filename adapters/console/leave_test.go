package console

import (
	"context"
	"strings"
	"testing"

	"github.com/tend-community/tend/bot"
)

// "name: !leave" is the platform's member-left event for that person, with no channel:
// nobody acts, and the console says who left.
func TestLeave(t *testing.T) {
	c, fb, out := newTest(t, Options{Locale: "en", Workspace: "demo", Board: "board"})
	if err := c.Run(context.Background(), strings.NewReader("Carol: !leave\ncarol@: !leave\n"), fb, false); err != nil {
		t.Fatal(err)
	}
	fb.mu.Lock()
	defer fb.mu.Unlock()
	if len(fb.events) != 1 {
		t.Fatalf("%d events, want 1: %+v", len(fb.events), fb.events)
	}
	ev := fb.events[0]
	if ev.Kind != bot.EventMemberLeft || ev.UserID != "carol" || ev.Workspace != "demo" || ev.Platform != Platform || ev.ChannelID != "" || ev.InDM || ev.ID == "" {
		t.Fatalf("event %+v", ev)
	}
	if !strings.Contains(out.String(), "[console] Carol leaves the space.") || !strings.Contains(out.String(), "carol: !leave") {
		t.Fatalf("output:\n%s", out.String())
	}
}
