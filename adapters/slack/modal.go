package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"

	"github.com/slack-go/slack"

	"github.com/tend-community/tend/bot"
)

// Modal limits.
const (
	maxModalTitle   = 24   // a modal's title, submit and close labels
	maxMetadata     = 3000 // private_metadata
	maxInputLen     = 3000 // a plain_text_input's max_length
	homeCallbackID  = "tend.home"
	homeVersion     = "1"
	homeAskActionID = "ask" // the bot's "ask" button action (flows.ActAsk)
)

// formMeta travels in a modal's private_metadata: the form's payload and the channel it
// was opened from.
type formMeta struct {
	Payload string `json:"p,omitempty"`
	Channel string `json:"c,omitempty"`
}

func (m formMeta) encode() string {
	b, _ := json.Marshal(m)
	if len(b) > maxMetadata {
		b, _ = json.Marshal(formMeta{Payload: m.Payload})
	}
	return string(b)
}

func decodeMeta(s string) formMeta {
	var m formMeta
	if s != "" && json.Unmarshal([]byte(s), &m) != nil {
		return formMeta{}
	}
	return m
}

// modal renders a form as a modal: one input block per field, block_id and action_id
// the field's name. prefill sets the initial value of text fields by name.
func (a *Adapter) modal(f bot.RenderedForm, channel, lang string, prefill map[string]string) slack.ModalViewRequest {
	loc := a.localizer(lang)
	title := oneLine(plain(f.Title, maxModalTitle*2))
	if title == "" {
		title = "tend"
	}
	v := slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plainText(bot.Clip(title, maxModalTitle)),
		Submit:          plainText(bot.Clip(loc("slack.modal.submit"), maxModalTitle)),
		Close:           plainText(bot.Clip(loc("slack.modal.close"), maxModalTitle)),
		CallbackID:      bot.Clip(f.ID, maxActionID),
		PrivateMetadata: formMeta{Payload: f.Payload, Channel: channel}.encode(),
	}
	seen := map[string]bool{}
	for _, fl := range f.Fields {
		if fl.Name == "" || seen[fl.Name] || len(v.Blocks.BlockSet) == maxViewBlocks {
			continue
		}
		seen[fl.Name] = true
		v.Blocks.BlockSet = append(v.Blocks.BlockSet, input(fl, prefill[fl.Name]))
	}
	return v
}

// input renders one form field.
func input(f bot.RenderedFormField, prefill string) *slack.InputBlock {
	label := oneLine(plain(f.Label, maxLabel))
	if label == "" {
		label = f.Name
	}
	help := plain(f.Help, maxLabel)
	var hint *slack.TextBlockObject
	var el slack.BlockElement
	switch {
	case f.Kind == "choice" && len(f.Options) > 0:
		opts := options(f.Options)
		sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, f.Name, opts...)
		for _, o := range opts {
			if f.Default != "" && o.Value == f.Default {
				sel.InitialOption = o
			}
		}
		el = sel
		if help != "" {
			hint = plainText(help)
		}
	default:
		var ph *slack.TextBlockObject
		if f.Kind == "datetime" && help != "" && len([]rune(help)) <= maxPlaceholder && !strings.Contains(help, "\n") {
			ph = plainText(help)
		} else if help != "" {
			hint = plainText(help)
		}
		in := slack.NewPlainTextInputBlockElement(ph, f.Name)
		in.Multiline = f.Kind == "longtext"
		limit := maxInputLen
		if f.MaxLen > 0 && f.MaxLen < limit {
			in.MaxLength = f.MaxLen
			limit = f.MaxLen
		}
		initial := f.Default
		if prefill != "" {
			initial = prefill
		}
		if !in.Multiline {
			initial = oneLine(initial)
		}
		in.InitialValue = bot.Clip(initial, limit)
		el = in
	}
	b := slack.NewInputBlock(bot.Clip(f.Name, maxActionID), plainText(label), hint, el)
	b.Optional = !f.Required
	return b
}

// formValues reads a submitted modal's answers: field name -> value.
func formValues(v slack.View) map[string]string {
	out := map[string]string{}
	if v.State == nil {
		return out
	}
	for block, actions := range v.State.Values {
		for _, act := range actions {
			val := act.Value
			if act.Type == "static_select" || act.SelectedOption.Value != "" {
				val = act.SelectedOption.Value
			}
			out[block] = val
		}
	}
	return out
}

// viewEventID identifies a submission: the view, its hash and a keyed digest of the
// answers, so a repeated delivery of one submission is recognised while a corrected
// resubmission (after field errors) is new. The digest reveals nothing of the answers.
func (a *Adapter) viewEventID(v slack.View, values map[string]string) string {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	mac := hmac.New(sha256.New, a.viewKey)
	for _, k := range keys {
		mac.Write([]byte(k))
		mac.Write([]byte{0})
		mac.Write([]byte(values[k]))
		mac.Write([]byte{0})
	}
	return "view:" + v.ID + ":" + v.Hash + ":" + hex.EncodeToString(mac.Sum(nil)[:12])
}

// homeView is the App Home: a welcome, the ask button and a hint about /tend.
func (a *Adapter) homeView(lang string) slack.HomeTabViewRequest {
	loc := a.localizer(lang)
	ask := slack.NewButtonBlockElement(homeAskActionID, "", plainText(bot.Clip(oneLine(loc("button.ask")), maxButtonText)))
	ask.Style = slack.StylePrimary
	return slack.HomeTabViewRequest{
		Type:            slack.VTHomeTab,
		CallbackID:      homeCallbackID,
		PrivateMetadata: homeMeta(lang),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewHeaderBlock(plainText(bot.Clip(oneLine(loc("slack.home.title")), maxHeader))),
			slack.NewSectionBlock(markdown(mrkdwn(loc("slack.home.welcome"), maxSectionText)), nil, nil),
			slack.NewActionBlock("home_actions", ask),
			slack.NewContextBlock("home_hint", markdown(mrkdwn(loc("slack.home.hint"), maxSectionText))),
		}},
	}
}

// homeMeta marks a published App Home with its version and language, so an unchanged
// home is not published again each time it is opened.
func homeMeta(lang string) string { return homeVersion + ":" + lang }
