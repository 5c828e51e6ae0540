package ui

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestCardRoundTrip(t *testing.T) {
	card := Card{
		Title:   T("request.card.title", "Category", Text{ID: "category.ride", Fallback: "ride"}, "Summary", UserText("@everyone ride")),
		Body:    []Text{T("value.places", "Taken", 1, "Count", int64(8)), RawText("(1/2) When?"), T("plain", "S", "str"), T("ask_for.posted", "Name", Sealed{Kind: "person", Ref: 7})},
		Fields:  []Field{{Label: T("field.when"), Value: T("value.window", "Window", Window{Start: 1, End: 2, Zone: "America/Toronto"})}},
		Buttons: []Button{{Label: T("button.claim"), Action: "claim", Payload: "7", Style: StylePrimary}},
		Reveal:  42,
	}
	b, err := json.Marshal(card)
	if err != nil {
		t.Fatal(err)
	}
	var back Card
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	// int64 comes back as int: both render the same.
	card.Body[0].Args["Count"] = 8
	if !reflect.DeepEqual(card, back) {
		t.Fatalf("round trip changed the card:\n%#v\n%#v", card, back)
	}
	if _, err := json.Marshal(T("x", "Bad", 1.5)); err == nil {
		t.Fatal("an unsupported argument type was accepted")
	}
}
