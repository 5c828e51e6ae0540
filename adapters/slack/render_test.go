package slack

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/tend-community/tend/bot"
)

// blocksJSON renders a card and decodes its blocks as Slack would receive them.
func blocksJSON(t *testing.T, m bot.Rendered) ([]map[string]any, string) {
	t.Helper()
	rm := render(m)
	raw, err := json.Marshal(rm.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out, rm.Text
}

func TestUserTextCannotPing(t *testing.T) {
	hostile := "Hi <!channel> and <!here> <!everyone> <!subteam^S123> <@U123> <#C42> fish & chips > 3"
	m := bot.Rendered{Title: hostile, Body: []string{hostile}, Fields: []bot.RenderedField{{Label: hostile, Value: hostile}},
		Buttons: []bot.RenderedButton{{Label: hostile, Action: "claim"}}}
	bs, text := blocksJSON(t, m)
	raw, _ := json.Marshal(bs)
	all := string(raw) + text
	for _, bad := range []string{"<!", "<@", "<#"} {
		if strings.Contains(all, bad) {
			t.Errorf("%q survived rendering: %s", bad, all)
		}
	}
	sec := bs[1]["text"].(map[string]any)["text"].(string)
	if !strings.Contains(sec, "fish &amp; chips &gt; 3") || !strings.Contains(sec, "&lt;") {
		t.Errorf("section not escaped as Slack documents: %q", sec)
	}
	if !strings.Contains(text, "&amp;") || strings.Contains(text, "<") {
		t.Errorf("fallback text not escaped: %q", text)
	}
	field := bs[2]["fields"].([]any)[0].(map[string]any)["text"].(string)
	if !strings.HasPrefix(field, "*Hi &lt;") || !strings.Contains(field, "*\nHi &lt;") {
		t.Errorf("field %q", field)
	}
}

func TestEscape(t *testing.T) {
	cases := map[string]string{
		"a & b":        "a &amp; b",
		"<!channel>":   "&lt;!channel&gt;",
		"<@U123>":      "&lt;@U123&gt;",
		"&amp;":        "&amp;amp;",
		"plain":        "plain",
		"<<>>&&":       "&lt;&lt;&gt;&gt;&amp;&amp;",
		"emoji 🌷 <ok>": "emoji 🌷 &lt;ok&gt;",
	}
	for in, want := range cases {
		if got := escape(in); got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
	}
	if got := unescape("fish &amp; chips &lt;3 &gt;"); got != "fish & chips <3 >" {
		t.Errorf("unescape: %q", got)
	}
}

func TestLimitsAreClipped(t *testing.T) {
	long := strings.Repeat("&", 5000) // escapes to five times its length
	var fields []bot.RenderedField
	for i := range 15 {
		fields = append(fields, bot.RenderedField{Label: "L" + strconv.Itoa(i), Value: long})
	}
	var buttons []bot.RenderedButton
	for i := range 30 {
		buttons = append(buttons, bot.RenderedButton{Label: strings.Repeat("b", 200), Action: "act" + strconv.Itoa(i%3), Payload: strings.Repeat("p", 3000)})
	}
	var opts []bot.RenderedOption
	for i := range 120 {
		opts = append(opts, bot.RenderedOption{Label: strings.Repeat("o", 100), Value: strconv.Itoa(i) + strings.Repeat("v", 200)})
	}
	m := bot.Rendered{Title: strings.Repeat("T", 300), Body: []string{long, long, "short"}, Fields: fields, Buttons: buttons,
		Choice: &bot.RenderedChoice{Action: "day", Placeholder: strings.Repeat("p", 300), Options: opts}}
	bs, text := blocksJSON(t, m)
	if len(bs) > maxBlocks {
		t.Fatalf("%d blocks", len(bs))
	}
	if n := utf8.RuneCountInString(text); n > maxFallback {
		t.Errorf("fallback %d chars", n)
	}
	runes := func(v any) int { return utf8.RuneCountInString(v.(string)) }
	var actions, sections, fieldSections int
	ids := map[string]bool{}
	for _, b := range bs {
		switch b["type"] {
		case "header":
			if n := runes(b["text"].(map[string]any)["text"]); n > maxHeader {
				t.Errorf("header %d chars", n)
			}
		case "section":
			if tx, ok := b["text"].(map[string]any); ok {
				sections++
				if n := runes(tx["text"]); n > maxSectionText {
					t.Errorf("section %d chars", n)
				}
				if strings.HasSuffix(tx["text"].(string), "&am") || strings.Contains(tx["text"].(string), "&a…") {
					t.Errorf("clipping cut an entity")
				}
			}
			if fs, ok := b["fields"].([]any); ok {
				fieldSections++
				if len(fs) > maxFields {
					t.Errorf("%d fields in a section", len(fs))
				}
				for _, f := range fs {
					if n := runes(f.(map[string]any)["text"]); n > maxFieldText {
						t.Errorf("field %d chars", n)
					}
				}
			}
		case "actions":
			actions++
			els := b["elements"].([]any)
			if len(els) > maxElements {
				t.Errorf("%d elements in an actions block", len(els))
			}
			for _, e := range els {
				el := e.(map[string]any)
				id := el["action_id"].(string)
				if ids[id] {
					t.Errorf("action_id %q repeated", id)
				}
				ids[id] = true
				if el["type"] == "button" {
					if n := runes(el["text"].(map[string]any)["text"]); n > maxButtonText {
						t.Errorf("button text %d chars", n)
					}
					if n := runes(el["value"]); n > maxValue {
						t.Errorf("button value %d chars", n)
					}
				}
				if el["type"] == "static_select" {
					os := el["options"].([]any)
					if len(os) > maxOptions {
						t.Errorf("%d options", len(os))
					}
					for _, o := range os {
						if n := runes(o.(map[string]any)["value"]); n > maxOptionValue {
							t.Errorf("option value %d chars", n)
						}
						if n := runes(o.(map[string]any)["text"].(map[string]any)["text"]); n > maxOptionText {
							t.Errorf("option text %d chars", n)
						}
					}
					if n := runes(el["placeholder"].(map[string]any)["text"]); n > maxPlaceholder {
						t.Errorf("placeholder %d chars", n)
					}
				}
			}
		}
	}
	if actions != 3 { // 25 + 5 buttons, then the menu
		t.Errorf("%d actions blocks, want 3", actions)
	}
	if fieldSections != 2 {
		t.Errorf("%d field sections, want 2 (10 + 5)", fieldSections)
	}
	if sections < 2 {
		t.Errorf("the long body should span sections, got %d", sections)
	}
	for id := range ids {
		if base := baseAction(id); !strings.HasPrefix(base, "act") && base != "day" {
			t.Errorf("action %q does not map back (%q)", id, base)
		}
	}
}

func TestManyLinesStayUnderFiftyBlocks(t *testing.T) {
	var fields []bot.RenderedField
	for i := range 600 {
		fields = append(fields, bot.RenderedField{Label: "f", Value: strconv.Itoa(i)})
	}
	bs, _ := blocksJSON(t, bot.Rendered{Title: "t", Fields: fields, Buttons: []bot.RenderedButton{{Label: "ok", Action: "done"}}})
	if len(bs) != maxBlocks {
		t.Fatalf("%d blocks, want %d", len(bs), maxBlocks)
	}
	if bs[len(bs)-1]["type"] != "actions" {
		t.Error("the buttons must survive the cut")
	}
	if bs[len(bs)-2]["type"] != "context" {
		t.Error("a cut card says it goes on")
	}
}

func TestDuplicateActionIDsAreSuffixedAndStripped(t *testing.T) {
	m := bot.Rendered{Buttons: []bot.RenderedButton{{Label: "a", Action: "claim", Payload: "1"}, {Label: "b", Action: "claim", Payload: "2"}}}
	bs, _ := blocksJSON(t, m)
	els := bs[0]["elements"].([]any)
	a, b := els[0].(map[string]any)["action_id"].(string), els[1].(map[string]any)["action_id"].(string)
	if a != "claim" || b != "claim#2" {
		t.Fatalf("action ids %q %q", a, b)
	}
	if baseAction(b) != "claim" || baseAction("outbox.show") != "outbox.show" || baseAction("x#y") != "x#y" {
		t.Error("baseAction")
	}
}

func TestChoiceIsAStaticSelect(t *testing.T) {
	m := bot.Rendered{Body: []string{"Which day?"}, Choice: &bot.RenderedChoice{Action: "pick", Placeholder: "Pick a day",
		Options: []bot.RenderedOption{{Label: "Mon", Value: "1"}, {Label: "Tue", Value: "2"}}}}
	bs, _ := blocksJSON(t, m)
	el := bs[1]["elements"].([]any)[0].(map[string]any)
	if el["type"] != "static_select" || el["action_id"] != "pick" || len(el["options"].([]any)) != 2 {
		t.Fatalf("choice %v", el)
	}
	// slack-go can read it back as Slack would send it.
	raw, _ := json.Marshal(render(m).Blocks)
	var back slack.Blocks
	if err := json.Unmarshal(raw, &back); err != nil || len(back.BlockSet) != 2 {
		t.Fatalf("round trip: %v %d", err, len(back.BlockSet))
	}
}

func FuzzMrkdwn(f *testing.F) {
	for _, s := range []string{"<!channel>", "<@U123>", "<#C1|general>", "&lt;!here&gt;", "＜!channel＞", "a & b", "<<!!>>", "\x00<\u202e!here>"} {
		f.Add(s, 40)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = 1 + abs(n)%maxSectionText
		out := mrkdwn(s, n)
		for _, bad := range []string{"<!", "<@", "<#", "<"} {
			if strings.Contains(out, bad) {
				t.Fatalf("mrkdwn(%q) = %q contains %q", s, out, bad)
			}
		}
		if utf8.RuneCountInString(out) > n {
			t.Fatalf("mrkdwn(%q, %d) is %d chars", s, n, utf8.RuneCountInString(out))
		}
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 %q", out)
		}
		if e := escape(s); strings.Contains(e, "<") || strings.Contains(e, ">") {
			t.Fatalf("escape(%q) = %q", s, e)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}
