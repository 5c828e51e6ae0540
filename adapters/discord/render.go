package discord

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/bot/ui"
)

// Discord's limits on what a message and a modal may hold.
const (
	maxContent     = 2000
	maxCustomID    = 100
	maxButtonLabel = 80
	maxRows        = 5
	maxPerRow      = 5
	maxOptions     = 25
	maxOptionText  = 100
	maxModalTitle  = 45
	maxInputLabel  = 45
	maxPlaceholder = 100
	maxInputLength = 4000
	// maxInputs is how many text inputs a modal holds: forms with more come in parts.
	maxInputs = 5
	// flagEphemeral shows an interaction's answer to the person who acted only.
	flagEphemeral = 1 << 6
)

// message is a message as the REST API and interaction responses take it.
type message struct {
	Content         string                       `json:"content"`
	Components      []discordgo.MessageComponent `json:"components"`
	AllowedMentions allowedMentions              `json:"allowed_mentions"`
	Flags           int                          `json:"flags,omitempty"`
	Nonce           string                       `json:"nonce,omitempty"`
	EnforceNonce    bool                         `json:"enforce_nonce,omitempty"`
}

// allowedMentions with no parse list: nothing in a message tend sends can ping anyone,
// even where user text slipped past the sanitiser.
type allowedMentions struct{}

// MarshalJSON is always an empty parse list: "parse": null would not do.
func (allowedMentions) MarshalJSON() ([]byte, error) { return []byte(`{"parse":[]}`), nil }

// modal is the data of a MODAL interaction response.
type modal struct {
	CustomID   string                       `json:"custom_id"`
	Title      string                       `json:"title"`
	Components []discordgo.MessageComponent `json:"components"`
}

// response is an interaction response.
type response struct {
	Type discordgo.InteractionResponseType `json:"type"`
	Data any                               `json:"data,omitempty"`
}

// Custom id kinds: what a component or a modal carries back to the adapter. Every custom
// id names the guild, since a press in a DM says none.
const (
	idButton = "b" // b|guild|action|payload
	idSelect = "s" // s|guild|action
	idNext   = "n" // n|guild|form|part: open the next part of a form
	idFix    = "x" // x|guild|form|field,field: open the refused fields again
	idModal  = "m" // m|guild|form|part/parts|payload, or m|guild|form|fix|payload
)

// customID joins a custom id; it fails past Discord's 100 characters.
func customID(kind string, parts ...string) (string, error) {
	id := kind + "|" + strings.Join(parts, "|")
	if len(id) > maxCustomID {
		return "", fmt.Errorf("%w: discord: a custom id would be %d characters", bot.ErrPermanent, len(id))
	}
	return id, nil
}

// splitID splits a custom id into its kind and parts.
func splitID(id string) (kind string, parts []string) {
	f := strings.Split(id, "|")
	return f[0], f[1:]
}

// render turns a card into a message: markdown text and, for its buttons and choice,
// components whose custom ids carry the guild, the action and the payload.
func render(guild string, m bot.Rendered) (message, error) {
	out := message{Content: content(m), Components: []discordgo.MessageComponent{}}
	rows, err := components(guild, m)
	if err != nil {
		return out, err
	}
	out.Components = rows
	return out, nil
}

// content is the card as Discord markdown: the title in bold, the body, then the fields.
func content(m bot.Rendered) string {
	var b strings.Builder
	if m.Title != "" {
		b.WriteString("**" + m.Title + "**\n")
	}
	for _, l := range m.Body {
		b.WriteString(l + "\n")
	}
	for _, f := range m.Fields {
		b.WriteString("**" + f.Label + ":** " + f.Value + "\n")
	}
	return cut(strings.TrimRight(b.String(), "\n"), maxContent)
}

func components(guild string, m bot.Rendered) ([]discordgo.MessageComponent, error) {
	rows := []discordgo.MessageComponent{}
	var row []discordgo.MessageComponent
	flush := func() {
		if len(row) > 0 {
			rows = append(rows, discordgo.ActionsRow{Components: row})
			row = nil
		}
	}
	buttonRows := maxRows
	if m.Choice != nil {
		buttonRows--
	}
	for _, b := range m.Buttons {
		if len(row) == maxPerRow {
			flush()
		}
		if len(rows) == buttonRows {
			return nil, fmt.Errorf("%w: discord: a message with %d buttons", bot.ErrPermanent, len(m.Buttons))
		}
		id, err := customID(idButton, guild, b.Action, b.Payload)
		if err != nil {
			return nil, err
		}
		row = append(row, discordgo.Button{Label: cut(b.Label, maxButtonLabel), Style: buttonStyle(b.Style), CustomID: id})
	}
	flush()
	if c := m.Choice; c != nil {
		id, err := customID(idSelect, guild, c.Action)
		if err != nil {
			return nil, err
		}
		menu := discordgo.SelectMenu{MenuType: discordgo.StringSelectMenu, CustomID: id, Placeholder: cut(c.Placeholder, maxPlaceholder)}
		for i, o := range c.Options {
			if i == maxOptions {
				break
			}
			menu.Options = append(menu.Options, discordgo.SelectMenuOption{Label: cut(o.Label, maxOptionText), Value: cut(o.Value, maxOptionText)})
		}
		rows = append(rows, discordgo.ActionsRow{Components: []discordgo.MessageComponent{menu}})
	}
	return rows, nil
}

func buttonStyle(s string) discordgo.ButtonStyle {
	switch ui.Style(s) {
	case ui.StylePrimary:
		return discordgo.PrimaryButton
	case ui.StyleDanger:
		return discordgo.DangerButton
	}
	return discordgo.SecondaryButton
}

// button is a single adapter button (continue a form, fix answers) in its own row.
func button(label, id string, style discordgo.ButtonStyle) discordgo.MessageComponent {
	return discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.Button{Label: cut(label, maxButtonLabel), Style: style, CustomID: id}}}
}

// cut shortens s to at most n characters, marking the cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// nonce turns a delivery's idempotency key into Discord's nonce (at most 25
// characters): with enforce_nonce, a resend within minutes returns the first message
// instead of posting a second.
func nonce(key string) string {
	if key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])[:25]
}

// parts splits a form's fields, in order, into as few modals as hold them, evenly (11
// fields are 4, 4 and 3, not 5, 5 and 1).
func parts(f bot.RenderedForm) [][]bot.RenderedFormField {
	n := (len(f.Fields) + maxInputs - 1) / maxInputs
	if n == 0 {
		return nil
	}
	size := (len(f.Fields) + n - 1) / n
	var out [][]bot.RenderedFormField
	for i := 0; i < len(f.Fields); i += size {
		out = append(out, f.Fields[i:min(i+size, len(f.Fields))])
	}
	return out
}

// formModal is part n of a form as a modal, or, with fix set, the named fields only.
func formModal(guild string, f bot.RenderedForm, part int, fix []string) (modal, error) {
	ps := parts(f)
	var (
		fields []bot.RenderedFormField
		title  = f.Title
		tag    string
	)
	if len(fix) > 0 {
		for _, fl := range f.Fields {
			for _, name := range fix {
				if fl.Name == name && len(fields) < maxInputs {
					fields = append(fields, fl)
				}
			}
		}
		tag = "fix"
	} else {
		if part < 0 || part >= len(ps) {
			return modal{}, fmt.Errorf("discord: form %s has no part %d", f.ID, part)
		}
		fields = ps[part]
		tag = strconv.Itoa(part) + "/" + strconv.Itoa(len(ps))
		if len(ps) > 1 {
			suffix := fmt.Sprintf(" (%d/%d)", part+1, len(ps))
			title = cut(title, maxModalTitle-utf8.RuneCountInString(suffix)) + suffix
		}
	}
	if len(fields) == 0 {
		return modal{}, fmt.Errorf("discord: form %s: no field to show", f.ID)
	}
	id, err := customID(idModal, guild, f.ID, tag, f.Payload)
	if err != nil {
		return modal{}, err
	}
	md := modal{CustomID: id, Title: cut(title, maxModalTitle)}
	for _, fl := range fields {
		md.Components = append(md.Components, discordgo.ActionsRow{Components: []discordgo.MessageComponent{input(fl)}})
	}
	return md, nil
}

// input is a form field as a text input. A choice becomes text whose placeholder lists
// the options; the bot matches what is typed to an option (by number, value or label).
func input(f bot.RenderedFormField) discordgo.TextInput {
	in := discordgo.TextInput{CustomID: f.Name, Label: cut(f.Label, maxInputLabel), Style: discordgo.TextInputShort,
		Required: f.Required && f.Default == ""}
	if f.Kind == string(ui.FieldLongText) {
		in.Style = discordgo.TextInputParagraph
	}
	if f.MaxLen > 0 {
		in.MaxLength = min(f.MaxLen, maxInputLength)
	}
	in.Placeholder = f.Help
	in.Value = f.Default
	if f.Kind == string(ui.FieldChoice) {
		labels := make([]string, 0, len(f.Options))
		for _, o := range f.Options {
			labels = append(labels, o.Label)
			if o.Value == f.Default {
				in.Value = o.Label
			}
		}
		in.Placeholder = strings.Join(labels, " / ")
		in.MaxLength = 0
	}
	if utf8.RuneCountInString(f.Label) > maxInputLabel {
		// The label was cut: the placeholder says it whole.
		in.Placeholder = strings.TrimSpace(f.Label + " " + in.Placeholder)
	}
	in.Placeholder = cut(in.Placeholder, maxPlaceholder)
	if in.MaxLength > 0 && utf8.RuneCountInString(in.Value) > in.MaxLength {
		in.Value = ""
	}
	return in
}
