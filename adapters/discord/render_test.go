package discord

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tend-community/tend/bot"
)

func TestRenderCard(t *testing.T) {
	card := bot.Rendered{Title: "Ride to chemotherapy", Body: []string{"Thursday"},
		Fields:  []bot.RenderedField{{Label: "Area", Value: "Rosemont"}},
		Buttons: []bot.RenderedButton{{Label: "I can help", Action: "claim", Payload: "42", Style: "primary"}, {Label: "Withdraw", Action: "withdraw", Payload: "42", Style: "danger"}}}
	m, err := render("1100000000000000001", card)
	if err != nil {
		t.Fatal(err)
	}
	if want := "**Ride to chemotherapy**\nThursday\n**Area:** Rosemont"; m.Content != want {
		t.Fatalf("content = %q, want %q", m.Content, want)
	}
	raw, _ := json.Marshal(m)
	var back struct {
		AllowedMentions struct {
			Parse []string `json:"parse"`
		} `json:"allowed_mentions"`
		Components []struct {
			Type       int `json:"type"`
			Components []struct {
				Type     int    `json:"type"`
				Style    int    `json:"style"`
				CustomID string `json:"custom_id"`
			} `json:"components"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"allowed_mentions":{"parse":[]}`) {
		t.Fatalf("allowed_mentions must be an empty parse list: %s", raw)
	}
	if len(back.Components) != 1 || len(back.Components[0].Components) != 2 {
		t.Fatalf("components = %s", raw)
	}
	b := back.Components[0].Components
	if b[0].CustomID != "b|1100000000000000001|claim|42" || b[0].Style != 1 || b[1].Style != 4 || b[0].Type != 2 {
		t.Fatalf("buttons = %+v", b)
	}
}

func TestRenderLimits(t *testing.T) {
	many := make([]bot.RenderedButton, 26)
	for i := range many {
		many[i] = bot.RenderedButton{Label: "x", Action: "claim", Payload: "1"}
	}
	tests := []struct {
		name string
		card bot.Rendered
		ok   bool
	}{
		{"long text is cut", bot.Rendered{Body: []string{strings.Repeat("é", 3000)}}, true},
		{"too many buttons", bot.Rendered{Buttons: many}, false},
		{"a custom id past 100 characters", bot.Rendered{Buttons: []bot.RenderedButton{{Label: "x", Action: strings.Repeat("a", 100), Payload: "1"}}}, false},
		{"a long label is cut", bot.Rendered{Buttons: []bot.RenderedButton{{Label: strings.Repeat("l", 200), Action: "claim", Payload: "1"}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := render("1", tt.card)
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, bot.ErrPermanent) {
					t.Fatalf("a message Discord would refuse must not be retried: %v", err)
				}
				return
			}
			if n := len([]rune(m.Content)); n > maxContent {
				t.Fatalf("content has %d characters", n)
			}
			raw, _ := json.Marshal(m)
			if strings.Contains(string(raw), strings.Repeat("l", 81)) {
				t.Fatal("a button label past 80 characters")
			}
		})
	}
}

func askForm() bot.RenderedForm {
	f := bot.RenderedForm{ID: "ask", Title: "Ask for help"}
	for _, n := range []string{"category", "when", "until", "area", "summary", "address", "phone", "notes", "show_name", "may_share", "follow_up"} {
		f.Fields = append(f.Fields, bot.RenderedFormField{Name: n, Kind: "text", Label: "Label of " + n, MaxLen: 200})
	}
	f.Fields[0] = bot.RenderedFormField{Name: "category", Kind: "choice", Label: "What kind of help?", Required: true,
		Options: []bot.RenderedOption{{Label: "Ride", Value: "ride"}, {Label: "Meal", Value: "meal"}}}
	f.Fields[7].Kind = "longtext"
	f.Fields[9] = bot.RenderedFormField{Name: "may_share", Kind: "choice", Label: "May I share your details with the helper you accept, once you accept them?",
		Default: "no", Options: []bot.RenderedOption{{Label: "Yes", Value: "yes"}, {Label: "No", Value: "no"}}}
	return f
}

func TestFormModalParts(t *testing.T) {
	f := askForm()
	tests := []struct {
		part   int
		fix    []string
		title  string
		id     string
		fields []string
	}{
		{0, nil, "Ask for help (1/3)", "m|9|ask|0/3|", []string{"category", "when", "until", "area"}},
		{1, nil, "Ask for help (2/3)", "m|9|ask|1/3|", []string{"summary", "address", "phone", "notes"}},
		{2, nil, "Ask for help (3/3)", "m|9|ask|2/3|", []string{"show_name", "may_share", "follow_up"}},
		{0, []string{"when", "may_share"}, "Ask for help", "m|9|ask|fix|", []string{"when", "may_share"}},
	}
	for _, tt := range tests {
		md, err := formModal("9", f, tt.part, tt.fix)
		if err != nil {
			t.Fatal(err)
		}
		if md.Title != tt.title || md.CustomID != tt.id {
			t.Errorf("part %d: title %q id %q", tt.part, md.Title, md.CustomID)
		}
		raw, _ := json.Marshal(md)
		var back struct {
			Components []struct {
				Components []struct {
					Type        int    `json:"type"`
					CustomID    string `json:"custom_id"`
					Label       string `json:"label"`
					Style       int    `json:"style"`
					Placeholder string `json:"placeholder"`
					Value       string `json:"value"`
					Required    bool   `json:"required"`
				} `json:"components"`
			} `json:"components"`
		}
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, row := range back.Components {
			in := row.Components[0]
			names = append(names, in.CustomID)
			if in.Type != 4 || len([]rune(in.Label)) > maxInputLabel {
				t.Errorf("input %+v", in)
			}
			switch in.CustomID {
			case "category":
				if in.Placeholder != "Ride / Meal" || !in.Required {
					t.Errorf("choice input %+v", in)
				}
			case "may_share":
				if in.Value != "No" || in.Required {
					t.Errorf("a choice's default is its label, and it is not required: %+v", in)
				}
				if !strings.HasPrefix(in.Placeholder, "May I share your details") || !strings.HasSuffix(in.Placeholder, "Yes / No") {
					t.Errorf("a cut label is said whole in the placeholder: %q", in.Placeholder)
				}
			case "notes":
				if in.Style != 2 {
					t.Errorf("long text must be a paragraph: %+v", in)
				}
			}
		}
		if strings.Join(names, ",") != strings.Join(tt.fields, ",") {
			t.Errorf("part %d fields = %v, want %v", tt.part, names, tt.fields)
		}
	}
	if _, err := formModal("9", f, 3, nil); err == nil {
		t.Fatal("a part past the end opened")
	}
}

func TestNonce(t *testing.T) {
	a, b := nonce("outbox:1"), nonce("outbox:2")
	if len(a) != 25 || a == b || nonce("outbox:1") != a || nonce("") != "" {
		t.Fatalf("nonces %q %q", a, b)
	}
}
