package console

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		line string
		want Input
	}{
		{"", Input{Kind: InputNone}},
		{"   \t ", Input{Kind: InputNone}},
		{"# alice asks for a ride", Input{Kind: InputNone}},
		{"  #indented comment", Input{Kind: InputNone}},
		{"alice: /tend ask", Input{Kind: InputCommand, User: "alice", Command: "ask"}},
		{"alice: /tend", Input{Kind: InputCommand, User: "alice", Command: "help"}},
		{"alice:/tend   ", Input{Kind: InputCommand, User: "alice", Command: "help"}},
		{"Alice : /TEND Ask  now  please ", Input{Kind: InputCommand, User: "alice", Command: "ask", Args: []string{"now", "please"}}},
		{"alice#moderators: /tend queue", Input{Kind: InputCommand, User: "alice", Channel: "moderators", Command: "queue"}},
		{"alice#Mods-2: /tend queue x", Input{Kind: InputCommand, User: "alice", Channel: "mods-2", Command: "queue", Args: []string{"x"}}},
		{"alice@: 12 Rue Rachel ", Input{Kind: InputText, User: "alice", DM: true, Text: "12 Rue Rachel"}},
		{"alice @: hello: there", Input{Kind: InputText, User: "alice", DM: true, Text: "hello: there"}},
		{"alice@: /tend mydata", Input{Kind: InputCommand, User: "alice", DM: true, Command: "mydata"}},
		{"alice@: /tending my garden", Input{Kind: InputText, User: "alice", DM: true, Text: "/tending my garden"}},
		{"alice: hello everyone", Input{Kind: InputChannelText, User: "alice", Text: "hello everyone"}},
		{"alice: /other thing", Input{Kind: InputChannelText, User: "alice", Text: "/other thing"}},
		{"bob: !press 7", Input{Kind: InputPress, User: "bob", Button: 7}},
		{"bob@: !PRESS 12", Input{Kind: InputPress, User: "bob", DM: true, Button: 12}},
		{"bob#mods: !press 1", Input{Kind: InputPress, User: "bob", Channel: "mods", Button: 1}},
		{"bob: !pick 7 2", Input{Kind: InputPick, User: "bob", Button: 7, Option: 2}},
		{"jean-paul_2: !press 3", Input{Kind: InputPress, User: "jean-paul_2", Button: 3}},
		{"carol: !leave", Input{Kind: InputLeave, User: "carol"}},
		{"Carol: !LEAVE", Input{Kind: InputLeave, User: "carol"}},
		{"bob: !help", Input{Kind: InputHelp}},
		{"!help", Input{Kind: InputHelp}},
		{"!quit", Input{Kind: InputQuit}},
		{"!exit", Input{Kind: InputQuit}},
		{"!clock 2026-11-26 09:00", Input{Kind: InputClock, Time: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}},
		{"!clock 2026-11-26T09:00:30", Input{Kind: InputClock, Time: time.Date(2026, 11, 26, 9, 0, 30, 0, time.UTC)}},
		{"!clock 2026-11-26T09:00:00-05:00", Input{Kind: InputClock, Zoned: true,
			Time: time.Date(2026, 11, 26, 9, 0, 0, 0, time.FixedZone("", -5*3600))}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, err := ParseLine(tt.line)
			if err != nil {
				t.Fatalf("ParseLine(%q): %v", tt.line, err)
			}
			if got.Kind == InputClock {
				if !got.Time.Equal(tt.want.Time) || got.Zoned != tt.want.Zoned {
					t.Fatalf("ParseLine(%q) time = %v zoned %v, want %v zoned %v", tt.line, got.Time, got.Zoned, tt.want.Time, tt.want.Zoned)
				}
				got.Time, tt.want.Time = time.Time{}, time.Time{}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseLine(%q)\n got %+v\nwant %+v", tt.line, got, tt.want)
			}
		})
	}
}

func TestParseLineErrors(t *testing.T) {
	tests := []struct {
		line string
		id   string
	}{
		{"hello there", errSyntax},
		{"/tend ask", errSyntax},
		{": /tend ask", errName},
		{"al ice: /tend ask", errName},
		{"élodie: /tend ask", errName},
		{strings.Repeat("a", 33) + ": /tend", errName},
		{"alice#: /tend ask", errChannel},
		{"alice#mod erators: /tend ask", errChannel},
		{"alice#mods#x: /tend ask", errChannel},
		{"#alice: hi", ""}, // a comment, not an error
		{"alice:", errEmpty},
		{"alice@:   ", errEmpty},
		{"alice: !dance", errDirective},
		{"!dance", errDirective},
		{"!quit now", errDirective},
		{"!press 7", errWho},
		{"!pick 7 1", errWho},
		{"!leave", errWho},
		{"carol: !leave now", errLeave},
		{"carol@: !leave", errLeave},
		{"carol#mods: !leave", errLeave},
		{"bob: !press", errPress},
		{"bob: !press seven", errPress},
		{"bob: !press 0", errPress},
		{"bob: !press -1", errPress},
		{"bob: !press +1", errPress},
		{"bob: !press 7 8", errPress},
		{"bob: !press 1234567890", errPress},
		{"bob: !pick 7", errPick},
		{"bob: !pick 7 0", errPick},
		{"bob: !pick x 1", errPick},
		{"!clock", errClock},
		{"!clock tomorrow", errClock},
		{"!clock 2026-13-01 09:00", errClock},
		{"alice: hi\x1b[31m", errChars},
		{"alice@: a\nb", errChars},
		{"alice: \xff", errChars},
		{"alice@: " + strings.Repeat("x", MaxLineBytes), errLong},
	}
	for _, tt := range tests {
		name := tt.line
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			got, err := ParseLine(tt.line)
			if tt.id == "" {
				if err != nil || got.Kind != InputNone {
					t.Fatalf("ParseLine(%q) = %+v, %v; want a comment", tt.line, got, err)
				}
				return
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseLine(%q) = %+v, %v; want error %s", tt.line, got, err, tt.id)
			}
			if pe.ID != tt.id {
				t.Fatalf("ParseLine(%q) error id %s, want %s", tt.line, pe.ID, tt.id)
			}
			if !reflect.DeepEqual(got, Input{}) {
				t.Fatalf("ParseLine(%q) returned %+v with its error", tt.line, got)
			}
		})
	}
}

func TestDisplayName(t *testing.T) {
	for in, want := range map[string]string{"alice": "Alice", "jean-paul": "Jean-paul", "7eleven": "7eleven", "": ""} {
		if got := DisplayName(in); got != want {
			t.Errorf("DisplayName(%q) = %q, want %q", in, got, want)
		}
	}
}
