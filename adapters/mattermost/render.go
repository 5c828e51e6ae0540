package mattermost

import (
	"strings"
	"unicode/utf8"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/ui"
)

// Limits tend keeps to, inside Mattermost's.
const (
	maxMessage     = 16000 // a post's message (the server takes 16383 runes)
	maxButtonLabel = 80
	maxOptions     = 100
	maxOptionText  = 150
	// Dialog limits (model.Dialog*MaxLength).
	maxDialogTitle = model.DialogTitleMaxLength
	maxElementName = model.DialogElementDisplayNameMaxLength
	maxHelpText    = model.DialogElementHelpTextMaxLength
	maxTextLen     = model.DialogElementTextMaxLength // a "text" element's default, placeholder and length
	maxTextarea    = model.DialogElementTextareaMaxLength
	maxIntro       = 3000
)

// Post props tend sets on every post: what tend writes never highlights @channel,
// @all, @here nor a group, even where something slipped past the sanitiser.
var quietProps = map[string]any{
	model.PostPropsMentionHighlightDisabled: true,
	model.PostPropsGroupHighlightDisabled:   true,
}

// content is a card as Mattermost markdown: the title in bold, the body, then the fields.
func content(m bot.Rendered) string {
	var b strings.Builder
	if m.Title != "" {
		b.WriteString("**" + oneLine(m.Title) + "**\n")
	}
	for _, l := range m.Body {
		b.WriteString(l + "\n")
	}
	for _, f := range m.Fields {
		b.WriteString("**" + oneLine(f.Label) + ":** " + f.Value + "\n")
	}
	return cut(Neutralize(strings.TrimRight(b.String(), "\n")), maxMessage)
}

// props are a card's buttons and choice as one attachment of actions, each calling
// tend's action endpoint with a context signed for the post's reference, plus the
// reference itself where the post's id is not known yet, and the quiet props.
func (a *Adapter) props(workspace string, m bot.Rendered, ref string) model.StringInterface {
	p := model.StringInterface{}
	for k, v := range quietProps {
		p[k] = v
	}
	if strings.HasPrefix(ref, "k:") {
		p[propRef] = ref
	}
	var acts []*model.PostAction
	for i, b := range m.Buttons {
		x := action{kind: kindButton, workspace: workspace, action: b.Action, payload: b.Payload, ref: ref}
		acts = append(acts, &model.PostAction{
			Id: a.actionID(x, i), Type: model.PostActionTypeButton, Name: label(b.Label), Style: buttonStyle(b.Style),
			Integration: &model.PostActionIntegration{URL: a.callback(PathAction), Context: a.sign.actionContext(x)},
		})
	}
	if c := m.Choice; c != nil && len(c.Options) > 0 {
		x := action{kind: kindSelect, workspace: workspace, action: c.Action, ref: ref}
		sel := &model.PostAction{
			Id: a.actionID(x, len(acts)), Type: model.PostActionTypeSelect, Name: label(c.Placeholder),
			Integration: &model.PostActionIntegration{URL: a.callback(PathAction), Context: a.sign.actionContext(x)},
		}
		for i, o := range c.Options {
			if i == maxOptions {
				break
			}
			sel.Options = append(sel.Options, &model.PostActionOptions{Text: cut(oneLine(Neutralize(o.Label)), maxOptionText), Value: o.Value})
		}
		acts = append(acts, sel)
	}
	if len(acts) > 0 {
		p[model.PostPropsAttachments] = []*model.MessageAttachment{{Fallback: cut(oneLine(Neutralize(fallback(m))), 300), Actions: acts}}
	}
	return p
}

// actionID names an action by what it does, so a press from a screen not yet refreshed
// after an edit finds the same button or none, never another one in its place.
func (a *Adapter) actionID(x action, i int) string {
	return "tend" + a.sign.digest(22, "id", x.kind, x.workspace, x.action, x.payload, string(rune('0'+i%10)))
}

func fallback(m bot.Rendered) string {
	if m.Title != "" {
		return m.Title
	}
	if len(m.Body) > 0 {
		return m.Body[0]
	}
	return "tend"
}

func label(s string) string {
	s = cut(oneLine(Neutralize(s)), maxButtonLabel)
	if s == "" {
		return "…"
	}
	return s
}

func buttonStyle(s string) string {
	switch ui.Style(s) {
	case ui.StylePrimary:
		return "primary"
	case ui.StyleDanger:
		return "danger"
	}
	return "default"
}

// cutBytes shortens s to at most n bytes, on a character boundary, marking the cut:
// the server counts a dialog's lengths in bytes.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ell = "…"
	var b strings.Builder
	for _, r := range s {
		if b.Len()+utf8.RuneLen(r)+len(ell) > n {
			break
		}
		b.WriteRune(r)
	}
	return b.String() + ell
}

// oneLine joins a text's lines with spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// cut shortens s to at most n characters, marking the cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// dialog renders a form as an interactive dialog: a select for a choice, a text field
// for a short answer, a textarea for a long one (or a short one longer than a text field
// holds), and, where the server has it and the config says so, the date picker for a
// date and time. state is the signed state the submission brings back.
func (a *Adapter) dialog(f bot.RenderedForm, state, lang string) model.Dialog {
	title := cutBytes(oneLine(Neutralize(f.Title)), maxDialogTitle)
	if title == "" {
		title = "tend"
	}
	d := model.Dialog{
		CallbackId: f.ID, Title: title, State: state,
		SubmitLabel: a.cat.Localize(lang, "mattermost.dialog.submit", nil),
	}
	if len(oneLine(Neutralize(f.Title))) > maxDialogTitle {
		d.IntroductionText = cutBytes(Neutralize(f.Title), maxIntro)
	}
	seen := map[string]bool{}
	for _, fl := range f.Fields {
		if fl.Name == "" || seen[fl.Name] {
			continue
		}
		seen[fl.Name] = true
		d.Elements = append(d.Elements, a.element(fl))
	}
	return d
}

// element renders one form field. The help goes in the placeholder where it fits, else
// under the field; a label cut to Mattermost's 24 characters is said whole under it.
func (a *Adapter) element(f bot.RenderedFormField) model.DialogElement {
	name := cutBytes(oneLine(Neutralize(f.Label)), maxElementName)
	if name == "" {
		name = f.Name
	}
	whole := ""
	if len(oneLine(Neutralize(f.Label))) > maxElementName {
		whole = oneLine(Neutralize(f.Label))
	}
	help := oneLine(Neutralize(f.Help))
	under := func(withHelp bool) string {
		parts := []string{whole}
		if withHelp {
			parts = append(parts, help)
		}
		return cutBytes(strings.TrimSpace(strings.Join(parts, " ")), maxHelpText)
	}
	e := model.DialogElement{DisplayName: name, Name: f.Name, Optional: !f.Required || f.Default != "", HelpText: under(true)}
	placeholder := func(limit int) {
		if help != "" && len(help) <= limit {
			e.Placeholder, e.HelpText = help, under(false)
		}
	}
	switch {
	case f.Kind == string(ui.FieldChoice) && len(f.Options) > 0:
		e.Type = "select"
		for i, o := range f.Options {
			if i == maxOptions {
				break
			}
			e.Options = append(e.Options, &model.PostActionOptions{Text: cutBytes(oneLine(Neutralize(o.Label)), maxOptionText), Value: o.Value})
			if o.Value == f.Default {
				e.Default = o.Value
			}
		}
	case f.Kind == string(ui.FieldDateTime) && a.cfg.DateTimeElements:
		e.Type = "datetime"
		e.DateTimeConfig = &model.DialogDateTimeConfig{LocationTimezone: a.zone.String(), TimeInterval: 30, AllowManualTimeEntry: true}
	case f.Kind == string(ui.FieldLongText) || f.MaxLen > maxTextLen:
		e.Type = "textarea"
		e.MaxLength = maxTextarea
		if f.MaxLen > 0 {
			e.MaxLength = min(f.MaxLen, maxTextarea)
		}
		e.Default = cutBytes(f.Default, e.MaxLength)
		placeholder(maxTextarea)
	default:
		e.Type = "text"
		e.MaxLength = maxTextLen
		if f.MaxLen > 0 {
			e.MaxLength = min(f.MaxLen, maxTextLen)
		}
		e.Default = cutBytes(oneLine(f.Default), e.MaxLength)
		placeholder(maxTextLen)
	}
	return e
}
