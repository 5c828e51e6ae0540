package bot

import (
	"context"

	"github.com/tend-community/tend/bot/ui"
)

// unseal returns the card with each sealed argument opened for its reader (viewer, in a
// direct message or not), and whether it had any. The flows decide what a reader may
// see (flows.Service.Unseal). The card given is left as it was: its texts may be shared
// with another Out that is still to be written to the outbox.
func (a *App) unseal(ctx context.Context, viewer int64, direct bool, c ui.Card) (ui.Card, bool, error) {
	seen := false
	open := func(t ui.Text) (ui.Text, error) {
		out, found, err := a.unsealText(ctx, viewer, direct, t)
		seen = seen || found
		return out, err
	}
	var err error
	out := c
	if out.Title, err = open(c.Title); err != nil {
		return c, false, err
	}
	out.Body = nil
	for _, b := range c.Body {
		t, err := open(b)
		if err != nil {
			return c, false, err
		}
		out.Body = append(out.Body, t)
	}
	out.Fields = nil
	for _, f := range c.Fields {
		l, err := open(f.Label)
		if err != nil {
			return c, false, err
		}
		v, err := open(f.Value)
		if err != nil {
			return c, false, err
		}
		out.Fields = append(out.Fields, ui.Field{Label: l, Value: v})
	}
	out.Buttons = nil
	for _, b := range c.Buttons {
		if b.Label, err = open(b.Label); err != nil {
			return c, false, err
		}
		out.Buttons = append(out.Buttons, b)
	}
	if c.Choice != nil {
		ch := *c.Choice
		if ch.Placeholder, err = open(c.Choice.Placeholder); err != nil {
			return c, false, err
		}
		ch.Options = nil
		for _, o := range c.Choice.Options {
			if o.Label, err = open(o.Label); err != nil {
				return c, false, err
			}
			ch.Options = append(ch.Options, o)
		}
		out.Choice = &ch
	}
	return out, seen, nil
}

// unsealText opens the sealed arguments of one text, nested texts included, into a new
// text.
func (a *App) unsealText(ctx context.Context, viewer int64, direct bool, t ui.Text) (ui.Text, bool, error) {
	if len(t.Args) == 0 {
		return t, false, nil
	}
	found := false
	args := make(map[string]any, len(t.Args))
	for k, v := range t.Args {
		switch x := v.(type) {
		case ui.Sealed:
			clear, err := a.flows.Unseal(ctx, viewer, direct, x)
			if err != nil {
				return t, false, err
			}
			args[k], found = clear, true
		case ui.Text:
			inner, f, err := a.unsealText(ctx, viewer, direct, x)
			if err != nil {
				return t, false, err
			}
			args[k], found = inner, found || f
		default:
			args[k] = v
		}
	}
	if !found {
		return t, false, nil
	}
	t.Args = args
	return t, true, nil
}
