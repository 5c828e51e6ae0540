package main

import (
	"strings"
	"testing"
)

func TestPartnersCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := stMarks(t, dir, true)

	secret := writeFile(t, dir, "secret", "a-long-enough-signing-secret\n", 0o600)
	ge := env()
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"empty", []string{"list"}, 0, "No partners yet", ""},
		{"a channel partner", []string{"add", "--name", "Hospice Team", "--kind", "palliative", "--languages", "fr, en", "--channel", "slack:T1:C9"}, 0, "Hospice Team is in the directory", ""},
		{"a webhook partner", []string{"add", "--name", "Grief Line", "--kind", "grief", "--webhook", "https://intake.example.org/tend", "--secret-file", secret}, 0, "Grief Line is in the directory", ""},
		{"an unknown kind", []string{"add", "--name", "X", "--kind", "astrology", "--channel", "slack:T1:C9"}, 1, "", "--kind: Pick one of"},
		{"a space not bound", []string{"add", "--name", "X", "--kind", "grief", "--channel", "discord:9:9"}, 1, "", "not connected to this community"},
		{"a webhook without https", []string{"add", "--name", "X", "--kind", "grief", "--webhook", "http://example.org", "--secret-file", secret}, 1, "", "https://"},
		{"a webhook without a secret", []string{"add", "--name", "X", "--kind", "grief", "--webhook", "https://example.org"}, 1, "", "signing secret"},
		{"list", []string{"list"}, 0, "slack:T1:C9", ""},
		{"remove", []string{"remove", "--name", "Grief Line"}, 0, "out of the directory", ""},
		{"remove again", []string{"remove", "--name", "Grief Line"}, 1, "", "no partner named Grief Line"},
		{"no action", []string{}, 2, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := tend(t, ge, append([]string{"--config", cfg, "partners"}, tt.args...)...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errOut, tt.stderr) {
				t.Fatalf("code %d\nstdout: %s\nstderr: %s", code, out, errOut)
			}
		})
	}
	_, out, _ := tend(t, ge, "--config", cfg, "partners", "list")
	if !strings.Contains(out, "retired") || strings.Contains(out, "a-long-enough") {
		t.Fatalf("list after remove:\n%s", out)
	}
}
