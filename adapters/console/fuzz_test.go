package console

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/tend-community/tend/catalog"
)

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		"", "# comment", "alice: /tend ask", "alice: /tend", "Alice#mods: /tend queue now",
		"alice@: 12 Rue Rachel", "alice@: /tend mydata", "bob: !press 7", "bob@: !pick 8 2",
		"!help", "!quit", "!clock 2026-11-26 09:00", "!clock 2026-11-26T09:00:00-05:00",
		"alice: hello", "al ice: x", "alice#: x", "bob: !press 0", "!press 1", "a:b:c",
		"x@@: y", "x#y@: z", "alice: /tend\task", "alice:\u00a0/tend ask", "alice: \x1b[2J",
		"alice@: \u202eevil", ":", "@:", "#", "!", "alice: !", "alice: !pick 1 999999999",
	} {
		f.Add(s)
	}
	cat, err := catalog.New()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		in, err := ParseLine(line)
		again, err2 := ParseLine(line)
		if (err == nil) != (err2 == nil) || !reflect.DeepEqual(in, again) {
			t.Fatalf("ParseLine(%q) is not deterministic", line)
		}
		// Surrounding spaces never change the meaning.
		if len(line)+2 <= MaxLineBytes {
			padded, errp := ParseLine(" " + line + "\t")
			if (err == nil) != (errp == nil) || !reflect.DeepEqual(in, padded) {
				t.Fatalf("ParseLine(%q) and its padded form differ: %+v %v / %+v %v", line, in, err, padded, errp)
			}
		}
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseLine(%q): error %v is not a *ParseError", line, err)
			}
			for _, lang := range catalog.Languages {
				if !cat.Has(lang, pe.ID) {
					t.Fatalf("ParseLine(%q): error id %q missing from %s catalogue", line, pe.ID, lang)
				}
			}
			if !reflect.DeepEqual(in, Input{}) {
				t.Fatalf("ParseLine(%q) returned %+v with an error", line, in)
			}
			return
		}
		switch in.Kind {
		case InputNone, InputHelp, InputQuit:
			if in.User != "" {
				t.Fatalf("ParseLine(%q): %s with user %q", line, in.Kind, in.User)
			}
		case InputClock:
			if in.Time.IsZero() {
				t.Fatalf("ParseLine(%q): clock without a time", line)
			}
		case InputCommand, InputText, InputChannelText, InputPress, InputPick:
			if !ValidName(in.User) || in.User != strings.ToLower(in.User) {
				t.Fatalf("ParseLine(%q): bad user %q", line, in.User)
			}
			if in.Channel != "" && (!validToken(in.Channel, MaxChannelLen) || in.Channel != strings.ToLower(in.Channel)) {
				t.Fatalf("ParseLine(%q): bad channel %q", line, in.Channel)
			}
			if in.DM && in.Channel != "" {
				t.Fatalf("ParseLine(%q): DM with a channel", line)
			}
			if DisplayName(in.User) == "" {
				t.Fatalf("ParseLine(%q): empty display name", line)
			}
		default:
			t.Fatalf("ParseLine(%q): unknown kind %q", line, in.Kind)
		}
		switch in.Kind {
		case InputCommand:
			if in.Command == "" || strings.IndexFunc(in.Command, unicode.IsSpace) >= 0 || in.Command != strings.ToLower(in.Command) {
				t.Fatalf("ParseLine(%q): bad command %q", line, in.Command)
			}
			for _, a := range in.Args {
				if a == "" || strings.IndexFunc(a, unicode.IsSpace) >= 0 {
					t.Fatalf("ParseLine(%q): bad arg %q", line, a)
				}
			}
			if in.Args != nil && len(in.Args) == 0 {
				t.Fatalf("ParseLine(%q): empty non-nil args", line)
			}
		case InputText, InputChannelText:
			if in.Text == "" || in.Text != strings.TrimSpace(in.Text) {
				t.Fatalf("ParseLine(%q): bad text %q", line, in.Text)
			}
			if (in.Kind == InputText) != in.DM {
				t.Fatalf("ParseLine(%q): text kind %s with DM %v", line, in.Kind, in.DM)
			}
			if _, _, ok := tendCommand(in.Text); ok {
				t.Fatalf("ParseLine(%q): a /tend command parsed as text", line)
			}
			if strings.HasPrefix(in.Text, "!") {
				t.Fatalf("ParseLine(%q): a directive parsed as text", line)
			}
		case InputPress:
			if in.Button <= 0 || in.Option != 0 {
				t.Fatalf("ParseLine(%q): bad press %d/%d", line, in.Button, in.Option)
			}
		case InputPick:
			if in.Button <= 0 || in.Option <= 0 {
				t.Fatalf("ParseLine(%q): bad pick %d/%d", line, in.Button, in.Option)
			}
		}
		if in.Kind != InputCommand && (in.Command != "" || in.Args != nil) {
			t.Fatalf("ParseLine(%q): %s carries a command", line, in.Kind)
		}
		for _, r := range in.Text {
			if r != '\t' && unicode.IsControl(r) {
				t.Fatalf("ParseLine(%q): control character in text", line)
			}
		}
	})
}
