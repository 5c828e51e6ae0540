package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// allowed lists, per object path, the keys Slack's manifest schema (version 1) accepts;
// the schema sets additionalProperties to false everywhere.
var allowed = map[string][]string{
	"":                             {"_metadata", "display_information", "features", "oauth_config", "settings"},
	"_metadata":                    {"major_version", "minor_version"},
	"display_information":          {"name", "description", "background_color", "long_description"},
	"features":                     {"app_home", "bot_user", "shortcuts", "slash_commands", "unfurl_domains"},
	"features.app_home":            {"home_tab_enabled", "messages_tab_enabled", "messages_tab_read_only_enabled"},
	"features.bot_user":            {"display_name", "always_online"},
	"features.slash_commands[]":    {"command", "url", "description", "usage_hint", "should_escape"},
	"features.shortcuts[]":         {"name", "type", "callback_id", "description"},
	"oauth_config":                 {"redirect_urls", "scopes", "token_management_enabled"},
	"oauth_config.scopes":          {"bot", "user"},
	"settings":                     {"allowed_ip_address_ranges", "event_subscriptions", "interactivity", "org_deploy_enabled", "socket_mode_enabled", "token_rotation_enabled"},
	"settings.event_subscriptions": {"request_url", "bot_events", "user_events"},
	"settings.interactivity":       {"is_enabled", "request_url", "message_menu_options_url"},
}

func checkKeys(t *testing.T, path string, v any) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		keys, ok := allowed[path]
		if !ok {
			return
		}
		for k, child := range x {
			found := false
			for _, a := range keys {
				found = found || a == k
			}
			if !found {
				t.Errorf("%s: key %q is not in Slack's manifest schema", path, k)
			}
			p := k
			if path != "" {
				p = path + "." + k
			}
			checkKeys(t, p, child)
		}
	case []any:
		for _, item := range x {
			checkKeys(t, path+"[]", item)
		}
	}
}

func str(m map[string]any, path ...string) string {
	var v any = m
	for _, p := range path {
		mm, _ := v.(map[string]any)
		v = mm[p]
	}
	s, _ := v.(string)
	return s
}

func TestSlackManifestFollowsTheSchema(t *testing.T) {
	cases := []struct {
		name string
		args []string
		http bool
	}{
		{"socket mode", []string{"manifest", "slack"}, false},
		{"http mode", []string{"manifest", "slack", "--url", "https://tend.example.org/"}, true},
		{"flags first", []string{"manifest", "--name", "Rosemont tend", "slack"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(context.Background(), c.args, nil, &out, &errOut, func(string) string { return "" }); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			var m map[string]any
			if err := json.Unmarshal(out.Bytes(), &m); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			checkKeys(t, "", m)
			// Required fields and their documented limits.
			if n := str(m, "display_information", "name"); n == "" || len(n) > 35 {
				t.Errorf("display_information.name %q: required, 1-35 characters", n)
			}
			if d := str(m, "display_information", "description"); len(d) > 140 {
				t.Errorf("description is %d characters, at most 140", len(d))
			}
			if n := str(m, "features", "bot_user", "display_name"); n == "" || len(n) > 80 {
				t.Errorf("bot_user.display_name %q: required, 1-80 characters", n)
			}
			if c := str(m, "display_information", "background_color"); !regexp.MustCompile(`^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$`).MatchString(c) {
				t.Errorf("background_color %q", c)
			}
			feats := m["features"].(map[string]any)
			for _, sc := range feats["slash_commands"].([]any) {
				s := sc.(map[string]any)
				cmd, _ := s["command"].(string)
				if !strings.HasPrefix(cmd, "/") || len(cmd) < 2 || len(cmd) > 32 || s["description"] == "" {
					t.Errorf("slash command %v", s)
				}
				if _, has := s["url"]; has != c.http {
					t.Errorf("slash command url present = %v in %s", has, c.name)
				}
			}
			for _, sh := range feats["shortcuts"].([]any) {
				s := sh.(map[string]any)
				if n, _ := s["name"].(string); n == "" || len(n) > 24 {
					t.Errorf("shortcut name %q: 1-24 characters", n)
				}
				if ty := s["type"]; ty != "message" && ty != "global" {
					t.Errorf("shortcut type %v", ty)
				}
				if d, _ := s["description"].(string); d == "" || len(d) > 150 || s["callback_id"] == "" {
					t.Errorf("shortcut %v", s)
				}
			}
			settings := m["settings"].(map[string]any)
			if settings["socket_mode_enabled"] != !c.http {
				t.Errorf("socket_mode_enabled = %v", settings["socket_mode_enabled"])
			}
			for _, u := range []string{str(m, "settings", "interactivity", "request_url"), str(m, "settings", "event_subscriptions", "request_url")} {
				if c.http && !strings.HasPrefix(u, "https://tend.example.org/slack/") {
					t.Errorf("request url %q", u)
				}
			}
		})
	}
	var out, errOut bytes.Buffer
	for _, bad := range [][]string{{"manifest"}, {"manifest", "irc"}, {"manifest", "slack", "--url", "http://insecure.example"}, {"manifest", "slack", "extra"}} {
		if code := run(context.Background(), bad, nil, &out, &errOut, func(string) string { return "" }); code == 0 {
			t.Errorf("%v succeeded", bad)
		}
	}
}
