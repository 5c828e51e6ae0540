package bot

import (
	"fmt"
	"strconv"
	"time"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/store"
)

// localize renders a Text for a language: user text is sanitised so it cannot ping,
// nested Texts and time windows are localised too.
func (a *App) localize(lang string, t ui.Text) string {
	if t.Raw != "" {
		return t.Raw
	}
	if len(t.ByLang) > 0 {
		if s := t.ByLang[lang]; s != "" {
			return Sanitize(s)
		}
		for _, l := range catalog.Languages {
			if s := t.ByLang[l]; s != "" {
				return Sanitize(s)
			}
		}
	}
	if t.Empty() {
		return ""
	}
	if !a.cat.Has(lang, t.ID) && t.Fallback != "" {
		return Sanitize(t.Fallback)
	}
	args := make(map[string]any, len(t.Args))
	for k, v := range t.Args {
		args[k] = a.arg(lang, v)
	}
	return a.cat.Localize(lang, t.ID, args)
}

func (a *App) arg(lang string, v any) any {
	switch x := v.(type) {
	case ui.UserText:
		return Sanitize(string(x))
	case ui.Text:
		return a.localize(lang, x)
	case ui.Window:
		return a.window(lang, x)
	case string:
		// Plain strings from flows are treated as untrusted too: better safe than pinged.
		return Sanitize(x)
	case ui.Sealed:
		// Opened before rendering (unseal); one that was not stays withheld.
		return a.localize(lang, ui.T("sealed.withheld"))
	default:
		return v
	}
}

// window formats a time window in the community's zone: "Thu 26 Nov, 14:00–16:00".
func (a *App) window(lang string, w ui.Window) string {
	loc, err := time.LoadLocation(w.Zone)
	if err != nil {
		loc = time.UTC
	}
	s, e := time.Unix(w.Start, 0).In(loc), time.Unix(w.End, 0).In(loc)
	if s.Year() == e.Year() && s.YearDay() == e.YearDay() {
		return a.cat.Localize(lang, "time.window_same_day", map[string]any{"Date": a.date(lang, s), "Start": a.clock(lang, s), "End": a.clock(lang, e)})
	}
	return a.cat.Localize(lang, "time.window", map[string]any{
		"StartDate": a.date(lang, s), "Start": a.clock(lang, s), "EndDate": a.date(lang, e), "End": a.clock(lang, e)})
}

func (a *App) date(lang string, t time.Time) string {
	return a.cat.Localize(lang, "time.date", map[string]any{
		"Weekday": a.cat.Localize(lang, "time.weekday."+strconv.Itoa(int(t.Weekday())), nil),
		"Day":     t.Day(),
		"Month":   a.cat.Localize(lang, "time.month."+strconv.Itoa(int(t.Month())), nil),
	})
}

func (a *App) clock(lang string, t time.Time) string {
	return a.cat.Localize(lang, "time.clock", map[string]any{"H": t.Hour(), "MM": fmt.Sprintf("%02d", t.Minute())})
}

// render localises a card for its reader.
func (a *App) render(lang string, c ui.Card) Rendered {
	r := Rendered{Title: a.localize(lang, c.Title)}
	for _, b := range c.Body {
		r.Body = append(r.Body, a.localize(lang, b))
	}
	for _, f := range c.Fields {
		r.Fields = append(r.Fields, RenderedField{Label: a.localize(lang, f.Label), Value: a.localize(lang, f.Value)})
	}
	for _, b := range c.Buttons {
		r.Buttons = append(r.Buttons, RenderedButton{Label: a.localize(lang, b.Label), Action: b.Action, Payload: b.Payload, Style: string(b.Style)})
	}
	if c.Choice != nil {
		ch := &RenderedChoice{Action: c.Choice.Action, Placeholder: a.localize(lang, c.Choice.Placeholder)}
		for _, o := range c.Choice.Options {
			ch.Options = append(ch.Options, RenderedOption{Label: a.localize(lang, o.Label), Value: o.Value})
		}
		r.Choice = ch
	}
	return r
}

// revealFields renders private details for a direct message, decrypted now.
func (a *App) revealFields(lang string, p store.Private) []RenderedField {
	var fs []RenderedField
	add := func(label, v string) {
		if v != "" {
			fs = append(fs, RenderedField{Label: a.localize(lang, ui.T(label)), Value: Sanitize(v)})
		}
	}
	add("field.address", p.Address)
	add("field.phone", p.Phone)
	add("field.notes", p.Notes)
	return fs
}

// renderForm localises a form.
func (a *App) renderForm(lang string, f ui.Form) RenderedForm {
	rf := RenderedForm{ID: f.ID, Payload: f.Payload, Title: a.localize(lang, f.Title)}
	for _, fl := range f.Fields {
		x := RenderedFormField{Name: fl.Name, Kind: string(fl.Kind), Label: a.localize(lang, fl.Label), Help: a.localize(lang, fl.Help),
			Required: fl.Required, MaxLen: fl.MaxLen, Default: fl.Default, Private: fl.Private}
		for _, o := range fl.Options {
			x.Options = append(x.Options, RenderedOption{Label: a.localize(lang, o.Label), Value: o.Value})
		}
		rf.Fields = append(rf.Fields, x)
	}
	return rf
}
