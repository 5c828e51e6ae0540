package mattermost

import (
	"strings"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/tend-community/tend/bot"
)

// frenchAsk is a form as the bot renders it in French: long labels with accents.
var frenchAsk = bot.RenderedForm{ID: "ask", Payload: "p", Title: "Demander de l'aide à vos voisins", Fields: []bot.RenderedFormField{
	{Name: "category", Kind: "choice", Label: "Catégorie d'aide", Required: true,
		Options: []bot.RenderedOption{{Label: "Transport à l'hôpital", Value: "ride"}, {Label: "Repas", Value: "meal"}}},
	{Name: "when", Kind: "datetime", Label: "Quand (jour et heure de début)", Help: "jeudi 14h, 2026-11-26 14:00", Required: true, MaxLen: 40},
	{Name: "summary", Kind: "text", Label: "Résumé public", Help: "Ce que tout le monde verra sur le tableau, sans adresse ni détail de santé", Required: true, MaxLen: 120},
	{Name: "address", Kind: "text", Label: "Adresse exacte", MaxLen: 200, Private: true},
	{Name: "notes", Kind: "longtext", Label: "Notes de santé ou d'accès", Help: "Seulement pour la personne qui vous aide, si vous l'acceptez", MaxLen: 1000, Private: true},
	{Name: "show_name", Kind: "choice", Label: "Montrer votre nom", Default: "anonymous",
		Options: []bot.RenderedOption{{Label: "Non, « un voisin »", Value: "anonymous"}, {Label: "Oui", Value: "name"}}},
}}

func TestDialogFitsMattermost(t *testing.T) {
	for _, dates := range []bool{false, true} {
		r := newRig(t, Config{DateTimeElements: dates, TimeZone: "America/Toronto"})
		d := r.ad.dialog(frenchAsk, "state", "fr")
		req := model.OpenDialogRequest{TriggerId: "t", URL: "http://tend/mattermost/dialog", Dialog: d}
		if err := req.IsValid(); err != nil {
			t.Fatalf("dates %v: the server would refuse the dialog: %v", dates, err)
		}
		if d.SubmitLabel != "Envoyer" || !strings.Contains(d.IntroductionText, "Demander de l'aide à vos voisins") {
			t.Errorf("dialog: %+v", d)
		}
		types := map[string]string{}
		for _, e := range d.Elements {
			types[e.Name] = e.Type
		}
		wantWhen := "text"
		if dates {
			wantWhen = "datetime"
		}
		for name, want := range map[string]string{"category": "select", "when": wantWhen, "summary": "text", "address": "textarea", "notes": "textarea", "show_name": "select"} {
			if types[name] != want {
				t.Errorf("dates %v: %s is a %q, want %q", dates, name, types[name], want)
			}
		}
		for _, e := range d.Elements {
			switch e.Name {
			case "show_name":
				if e.Default != "anonymous" || !e.Optional {
					t.Errorf("show_name: %+v", e)
				}
			case "category":
				if e.Optional {
					t.Error("a required choice is optional")
				}
			case "summary":
				if e.MaxLength != 120 || e.HelpText == "" && e.Placeholder == "" {
					t.Errorf("summary: %+v", e)
				}
			case "when":
				if dates && (e.DateTimeConfig == nil || e.DateTimeConfig.LocationTimezone != "America/Toronto") {
					t.Errorf("when: %+v", e)
				}
			}
		}
	}
}

func TestLocalTime(t *testing.T) {
	r := newRig(t, Config{DateTimeElements: true, TimeZone: "America/Toronto"})
	for in, want := range map[string]string{
		"2026-11-26T19:00:00Z":      "2026-11-26 14:00",
		"2026-11-26T14:00:00-05:00": "2026-11-26 14:00",
		"2026-11-26T14:00:00":       "2026-11-26 14:00",
		"2026-11-26T14:00":          "2026-11-26 14:00",
		"jeudi 14h":                 "jeudi 14h",
	} {
		if got := r.ad.localTime(in); got != want {
			t.Errorf("localTime(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCardAsPost(t *testing.T) {
	r := newRig(t, Config{})
	m := bot.Rendered{Title: "Transport", Body: []string{"jeudi"}, Fields: []bot.RenderedField{{Label: "Quartier", Value: "Rosemont"}},
		Buttons: []bot.RenderedButton{{Label: "Je peux aider", Action: "claim", Payload: "1", Style: "primary"},
			{Label: "Annuler", Action: "cancel", Payload: "1", Style: "danger"}, {Label: "Plus tard", Action: "later", Payload: "1"}},
		Choice: &bot.RenderedChoice{Action: "day", Placeholder: "Jour", Options: []bot.RenderedOption{{Label: "lundi", Value: "mon"}}}}
	if got := content(m); got != "**Transport**\njeudi\n**Quartier:** Rosemont" {
		t.Errorf("content: %q", got)
	}
	props := r.ad.props("team", m, keyRef("k"))
	atts := props[model.PostPropsAttachments].([]*model.MessageAttachment)
	acts := atts[0].Actions
	if len(acts) != 4 || acts[0].Style != "primary" || acts[1].Style != "danger" || acts[2].Style != "default" || acts[3].Type != "select" {
		t.Fatalf("actions: %+v", acts)
	}
	seen := map[string]bool{}
	for _, a := range acts {
		if seen[a.Id] || !alnumID(a.Id) {
			t.Errorf("action id %q", a.Id)
		}
		seen[a.Id] = true
		if err := a.IsValid(); err != nil {
			t.Errorf("action %q: %v", a.Name, err)
		}
	}
	// The same button keeps its id after an edit; another one never takes it.
	again := r.ad.props("team", bot.Rendered{Buttons: m.Buttons[:1]}, postRef("p"))
	if id := again[model.PostPropsAttachments].([]*model.MessageAttachment)[0].Actions[0].Id; id != acts[0].Id {
		t.Errorf("the claim button's id changed: %s, %s", id, acts[0].Id)
	}
	other := r.ad.props("team", bot.Rendered{Buttons: m.Buttons[1:2]}, keyRef("k"))
	if id := other[model.PostPropsAttachments].([]*model.MessageAttachment)[0].Actions[0].Id; id == acts[0].Id {
		t.Error("another button took the claim button's id")
	}
}

func alnumID(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}
