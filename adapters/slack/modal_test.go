package slack

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/tend-community/tend/bot"
)

func askForm() bot.RenderedForm {
	return bot.RenderedForm{ID: "ask", Payload: "42", Title: "Ask for help from your neighbours", Fields: []bot.RenderedFormField{
		{Name: "category", Kind: "choice", Label: "What kind of help?", Required: true,
			Options: []bot.RenderedOption{{Label: "Ride", Value: "ride"}, {Label: "Meal", Value: "meal"}}},
		{Name: "when", Kind: "datetime", Label: "When?", Help: "For example: thursday 14:00", Required: true, MaxLen: 40},
		{Name: "summary", Kind: "text", Label: "Summary", Help: "Shown on the board", Required: true, MaxLen: 140},
		{Name: "notes", Kind: "longtext", Label: "Private notes", Help: "Only your helper sees these", MaxLen: 1000},
		{Name: "may_share", Kind: "choice", Label: "Share?", Default: "no",
			Options: []bot.RenderedOption{{Label: "Yes", Value: "yes"}, {Label: "No", Value: "no"}}},
	}}
}

func modalJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFormBecomesModal(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeSocket, nil)
	v := modalJSON(t, a.modal(askForm(), "C1", "fr", map[string]string{"summary": "Drive Anna to the clinic"}))
	if v["type"] != "modal" || v["callback_id"] != "ask" {
		t.Errorf("modal %v", v)
	}
	if title := v["title"].(map[string]any)["text"].(string); utf8.RuneCountInString(title) > maxModalTitle {
		t.Errorf("title %q too long", title)
	}
	if v["submit"].(map[string]any)["text"] != "Envoyer" || v["close"].(map[string]any)["text"] != "Annuler" {
		t.Errorf("buttons not localised: %v %v", v["submit"], v["close"])
	}
	var meta formMeta
	if err := json.Unmarshal([]byte(v["private_metadata"].(string)), &meta); err != nil || meta.Payload != "42" || meta.Channel != "C1" {
		t.Errorf("private_metadata %v (%v)", v["private_metadata"], err)
	}
	blocks := v["blocks"].([]any)
	if len(blocks) != 5 {
		t.Fatalf("%d blocks", len(blocks))
	}
	byID := map[string]map[string]any{}
	for _, b := range blocks {
		b := b.(map[string]any)
		if b["type"] != "input" {
			t.Errorf("block type %v", b["type"])
		}
		el := b["element"].(map[string]any)
		if el["action_id"] != b["block_id"] {
			t.Errorf("action_id %v != block_id %v", el["action_id"], b["block_id"])
		}
		byID[b["block_id"].(string)] = b
	}
	cat := byID["category"]
	if cat["element"].(map[string]any)["type"] != "static_select" || cat["optional"] == true {
		t.Errorf("category %v", cat)
	}
	when := byID["when"]["element"].(map[string]any)
	if when["type"] != "plain_text_input" || when["max_length"] != float64(40) || when["placeholder"].(map[string]any)["text"] != "For example: thursday 14:00" {
		t.Errorf("when %v", when)
	}
	sum := byID["summary"]["element"].(map[string]any)
	if sum["initial_value"] != "Drive Anna to the clinic" || sum["multiline"] == true {
		t.Errorf("summary %v", sum)
	}
	if byID["summary"]["hint"].(map[string]any)["text"] != "Shown on the board" {
		t.Errorf("summary hint %v", byID["summary"]["hint"])
	}
	notes := byID["notes"]
	if notes["optional"] != true || notes["element"].(map[string]any)["multiline"] != true {
		t.Errorf("notes %v", notes)
	}
	share := byID["may_share"]["element"].(map[string]any)
	if init, _ := share["initial_option"].(map[string]any); init == nil || init["value"] != "no" {
		t.Errorf("may_share initial option %v", share["initial_option"])
	}
	// slack-go accepts it as a modal with unique block ids.
	if !slack.ValidateUniqueBlockID(a.modal(askForm(), "C1", "en", nil)) {
		t.Error("block ids repeat")
	}
}

func TestSubmittedValuesAreRead(t *testing.T) {
	// A view_submission payload as Slack documents it.
	payload := `{"type":"view_submission","team":{"id":"T1","domain":"care"},"user":{"id":"U1","username":"alice","name":"alice","team_id":"T1"},
	"api_app_id":"A1","token":"x","trigger_id":"13345224609.738474920.8088930838d88f008e0",
	"view":{"id":"V123","team_id":"T1","type":"modal","callback_id":"ask","private_metadata":"{\"p\":\"42\",\"c\":\"C1\"}","hash":"156772938.1827394",
	"state":{"values":{
		"when":{"when":{"type":"plain_text_input","value":"thursday 14:00"}},
		"category":{"category":{"type":"static_select","selected_option":{"text":{"type":"plain_text","text":"Ride","emoji":true},"value":"ride"}}},
		"may_share":{"may_share":{"type":"static_select","selected_option":null}},
		"notes":{"notes":{"type":"plain_text_input","value":null}}}}},
	"response_urls":[]}`
	var ic slack.InteractionCallback
	if err := json.Unmarshal([]byte(payload), &ic); err != nil {
		t.Fatal(err)
	}
	got := formValues(ic.View)
	want := map[string]string{"when": "thursday 14:00", "category": "ride", "may_share": "", "notes": ""}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeSocket, nil)
	id1 := a.viewEventID(ic.View, got)
	if id2 := a.viewEventID(ic.View, map[string]string{"when": "thursday 14:00", "category": "ride", "may_share": "", "notes": ""}); id1 != id2 {
		t.Error("the same submission must keep its id")
	}
	got["when"] = "friday 10:00"
	if id3 := a.viewEventID(ic.View, got); id3 == id1 {
		t.Error("a corrected submission must get a new id")
	}
	if !strings.HasPrefix(id1, "view:V123:156772938.1827394:") || strings.Contains(id1, "thursday") {
		t.Errorf("id %q", id1)
	}
}

func TestHomeView(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeSocket, nil)
	v := modalJSON(t, a.homeView("en"))
	if v["type"] != "home" {
		t.Fatalf("home %v", v)
	}
	raw, _ := json.Marshal(v)
	if !strings.Contains(string(raw), `"action_id":"ask"`) || !strings.Contains(string(raw), "/tend mine") {
		t.Errorf("home %s", raw)
	}
}
