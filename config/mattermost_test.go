package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestMattermostSection(t *testing.T) {
	team, board, mods := strings.Repeat("t", 26), strings.Repeat("b", 26), strings.Repeat("m", 26)
	space := `
[[communities]]
slug = "hospice"
name = "Hospice"
timezone = "America/Toronto"
[[communities.spaces]]
platform = "mattermost"
workspace = "` + team + `"
board_channel = "` + board + `"
moderators_channel = "` + mods + `"
`
	good := "[mattermost]\nurl = \"https://chat.example.org\"\ncallback_url = \"http://tend.internal:9464\"\n"
	for _, tc := range []struct {
		name string
		file string
		env  map[string]string
		want []string
	}{
		{"good", good + space, nil, nil},
		{"addresses from the environment", space, map[string]string{EnvMattermostURL: "https://chat.example.org", EnvMattermostCallbackURL: "http://tend:9464"}, nil},
		{"no addresses", space, nil, []string{"mattermost.url is required", "mattermost.callback_url is required"}},
		{"no addresses, no Mattermost space", "", nil, nil},
		{"bad address", "[mattermost]\nurl = \"chat.example.org\"\ncallback_url = \"ftp://x\"\n" + space, nil,
			[]string{`mattermost.url "chat.example.org" must be an http or https URL`, `mattermost.callback_url "ftp://x" must be`}},
		{"listener off", good + "[http]\nlisten = \"off\"\n" + space, nil, []string{"http.listen is off, but Mattermost calls tend there"}},
		{"token in the file", good + "token = \"x\"\n" + space, nil, []string{"mattermost.token: secrets are read only from the environment", "TEND_MATTERMOST_TOKEN"}},
		{"bad groups and channels", strings.Replace(good, "[mattermost]\n", "[mattermost]\nmoderator_groups = [\"care team\"]\nvetted_channels = [\"board\", \"hospice/board\", \"a/b/c\"]\n", 1) + space, nil,
			[]string{`moderator_groups[0] "care team" must be a group's @handle`, `vetted_channels[0] "board" must be a channel id`, `vetted_channels[2] "a/b/c"`}},
		{"bad ids", good + strings.ReplaceAll(space, team, "hospice"), nil, []string{`workspace "hospice" must be a Mattermost team id`}},
		{"bad user id", good + space + "[[communities.moderators]]\nplatform = \"mattermost\"\nuser_id = \"maya\"\n", nil, []string{`user_id "maya" must be a Mattermost user id`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "tend.toml")
			if err := os.WriteFile(p, []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p, func(k string) string { return tc.env[k] })
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "hospice/board") {
				t.Errorf("a team/channel name was refused: %v", err)
			}
		})
	}
}

// TestExampleMattermostIsValid uncomments the example's commented settings (Discord's
// and Mattermost's) and checks the Mattermost ones load.
func TestExampleMattermostIsValid(t *testing.T) {
	b, err := os.ReadFile("../tend.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	uncommented := regexp.MustCompile(`(?m)^(\s*)#([a-z_]+ =|\[)`).ReplaceAllString(string(b), "$1$2")
	c, err := Load(writeFile(t, "tend.toml", uncommented, 0o644), env())
	if err != nil {
		t.Fatalf("the Mattermost example does not load: %v", err)
	}
	m := c.Mattermost
	if m.URL == "" || m.CallbackURL == "" || len(m.ModeratorGroups) != 1 || len(m.VettedChannels) != 1 {
		t.Errorf("mattermost = %+v", m)
	}
	spaces := c.Communities[0].Spaces
	if last := spaces[len(spaces)-1]; last.Platform != "mattermost" {
		t.Errorf("spaces = %+v", spaces)
	}
}
