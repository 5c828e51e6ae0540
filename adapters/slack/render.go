package slack

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/tend-community/tend/bot"
)

// Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks).
const (
	maxBlocks      = 50   // blocks in a message
	maxViewBlocks  = 100  // blocks in a modal or the App Home
	maxSectionText = 3000 // a section's text
	maxFieldText   = 2000 // one field of a section
	maxFields      = 10   // fields in a section
	maxHeader      = 150  // a header's text
	maxButtonText  = 75   // a button's label
	maxValue       = 2000 // a button's value
	maxActionID    = 255  // an action_id or block_id
	maxElements    = 25   // elements in an actions block
	maxOptions     = 100  // options of a static_select
	maxOptionText  = 75   // an option's label
	maxOptionValue = 150  // an option's value
	maxPlaceholder = 150  // a placeholder
	maxLabel       = 2000 // an input's label or hint
	maxFallback    = 3000 // the notification text of a message
	maxErrorText   = 2000 // a modal field's error
)

// escaper applies Slack's documented escaping for mrkdwn and message text: with & < >
// escaped, no <!channel>, <!here>, <!subteam^…>, <@U…> or <#C…> can form, whatever
// the text was.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escape escapes text for mrkdwn.
func escape(s string) string { return escaper.Replace(s) }

// unescaper undoes Slack's escaping of text people typed (message events, slash
// commands), so the bot sees what they wrote.
var unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

func unescape(s string) string { return unescaper.Replace(s) }

// mrkdwn makes text safe for a mrkdwn field: sanitised (again: it cannot hurt), escaped,
// and clipped to n characters of escaped text without cutting an entity.
func mrkdwn(s string, n int) string {
	s = bot.Sanitize(s)
	e := escape(s)
	if utf8.RuneCountInString(e) <= n {
		return e
	}
	if n < 1 {
		return ""
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		piece := string(r)
		switch r {
		case '&':
			piece = "&amp;"
		case '<':
			piece = "&lt;"
		case '>':
			piece = "&gt;"
		}
		w := utf8.RuneCountInString(piece)
		if used+w > n-1 {
			break
		}
		b.WriteString(piece)
		used += w
	}
	b.WriteString("…")
	return b.String()
}

// plain makes text safe for a plain_text field (never parsed for mentions): sanitised
// and clipped to n characters.
func plain(s string, n int) string {
	s = bot.Sanitize(s)
	if n < 1 {
		return ""
	}
	return bot.Clip(s, n)
}

// oneLine folds line breaks into spaces (headers, labels).
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

func plainText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

// markdown is a mrkdwn text object already escaped; verbatim stops Slack from turning
// plain words into links or mentions.
func markdown(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, true)
}

// message is a card rendered for Slack: blocks and the plain fallback text that
// notifications show.
type message struct {
	Blocks []slack.Block
	Text   string
}

// render turns a card into Block Kit: the title as a header, the body as sections, the
// fields as section fields, buttons as actions blocks and the choice as a static_select.
func render(m bot.Rendered) message {
	var content, tail []slack.Block
	if t := oneLine(plain(m.Title, maxHeader*2)); t != "" {
		content = append(content, slack.NewHeaderBlock(plainText(bot.Clip(t, maxHeader))))
	}
	for _, text := range bodySections(m.Body) {
		content = append(content, slack.NewSectionBlock(markdown(text), nil, nil))
	}
	var fields []*slack.TextBlockObject
	for _, f := range m.Fields {
		if t := fieldText(f); t != "" {
			fields = append(fields, markdown(t))
		}
	}
	for len(fields) > 0 {
		n := min(len(fields), maxFields)
		content = append(content, slack.NewSectionBlock(nil, fields[:n], nil))
		fields = fields[n:]
	}

	ids := actionIDs{}
	var buttons []slack.BlockElement
	for _, b := range m.Buttons {
		buttons = append(buttons, button(b, ids))
	}
	for len(buttons) > 0 {
		n := min(len(buttons), maxElements)
		tail = append(tail, slack.NewActionBlock("", buttons[:n]...))
		buttons = buttons[n:]
	}
	if m.Choice != nil && len(m.Choice.Options) > 0 {
		tail = append(tail, slack.NewActionBlock("", choice(*m.Choice, ids)))
	}

	if len(tail) > maxBlocks {
		tail = tail[:maxBlocks]
	}
	if room := maxBlocks - len(tail); len(content) > room {
		// Too long for one message: keep the beginning and say it goes on.
		if room > 0 {
			content = append(content[:room-1], slack.NewContextBlock("", markdown("…")))
		} else {
			content = nil
		}
	}
	return message{Blocks: append(content, tail...), Text: fallback(m)}
}

// bodySections joins the body lines into as few sections as the section limit allows.
func bodySections(body []string) []string {
	var out []string
	var cur strings.Builder
	n := 0
	for _, line := range body {
		if strings.TrimSpace(line) == "" {
			continue
		}
		e := mrkdwn(line, maxSectionText)
		l := utf8.RuneCountInString(e)
		if n > 0 && n+1+l > maxSectionText {
			out = append(out, cur.String())
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteByte('\n')
			n++
		}
		cur.WriteString(e)
		n += l
	}
	if n > 0 {
		out = append(out, cur.String())
	}
	return out
}

// fieldText is "*Label*\nValue", escaped, within a field's limit.
func fieldText(f bot.RenderedField) string {
	label := oneLine(f.Label)
	value := strings.TrimSpace(f.Value)
	switch {
	case label == "" && value == "":
		return ""
	case label == "":
		return mrkdwn(value, maxFieldText)
	case value == "":
		return "*" + mrkdwn(label, maxFieldText-2) + "*"
	}
	l := "*" + mrkdwn(label, 200) + "*\n"
	return l + mrkdwn(value, maxFieldText-utf8.RuneCountInString(l))
}

// actionIDs keeps action ids unique within a message, as Slack requires: a repeated
// one gets a "#2", "#3"... suffix, which inbound events strip.
type actionIDs map[string]int

func (ids actionIDs) unique(id string) string {
	id = bot.Clip(id, maxActionID-4)
	ids[id]++
	if n := ids[id]; n > 1 {
		return id + "#" + strconv.Itoa(n)
	}
	return id
}

// baseAction undoes actionIDs.unique.
func baseAction(id string) string {
	i := strings.LastIndexByte(id, '#')
	if i < 0 || i == len(id)-1 {
		return id
	}
	if _, err := strconv.Atoi(id[i+1:]); err != nil {
		return id
	}
	return id[:i]
}

func button(b bot.RenderedButton, ids actionIDs) *slack.ButtonBlockElement {
	label := oneLine(plain(b.Label, maxButtonText*2))
	if label == "" {
		label = "…"
	}
	el := slack.NewButtonBlockElement(ids.unique(b.Action), bot.Clip(b.Payload, maxValue), plainText(bot.Clip(label, maxButtonText)))
	switch b.Style {
	case "primary":
		el.Style = slack.StylePrimary
	case "danger":
		el.Style = slack.StyleDanger
	}
	return el
}

func choice(c bot.RenderedChoice, ids actionIDs) *slack.SelectBlockElement {
	var ph *slack.TextBlockObject
	if p := oneLine(plain(c.Placeholder, maxPlaceholder)); p != "" {
		ph = plainText(p)
	}
	return slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, ph, ids.unique(c.Action), options(c.Options)...)
}

func options(opts []bot.RenderedOption) []*slack.OptionBlockObject {
	var out []*slack.OptionBlockObject
	for _, o := range opts {
		if len(out) == maxOptions {
			break
		}
		out = append(out, option(o))
	}
	return out
}

func option(o bot.RenderedOption) *slack.OptionBlockObject {
	label := oneLine(plain(o.Label, maxOptionText))
	if label == "" {
		label = bot.Clip(o.Value, maxOptionText)
	}
	if label == "" {
		label = "…"
	}
	return slack.NewOptionBlockObject(bot.Clip(o.Value, maxOptionValue), plainText(label), nil)
}

// fallback is the plain text of a message, for notifications and clients without
// blocks: the title and the first line of the body. Fields are left out: they may hold
// private details, and a notification shows on a locked screen.
func fallback(m bot.Rendered) string {
	var parts []string
	if t := oneLine(m.Title); t != "" {
		parts = append(parts, t)
	}
	for _, b := range m.Body {
		if l := strings.TrimSpace(strings.SplitN(b, "\n", 2)[0]); l != "" {
			parts = append(parts, l)
			break
		}
	}
	if len(parts) == 0 && len(m.Buttons) > 0 {
		parts = append(parts, oneLine(m.Buttons[0].Label))
	}
	s := mrkdwn(strings.Join(parts, "\n"), maxFallback)
	if s == "" {
		s = "…"
	}
	return s
}
