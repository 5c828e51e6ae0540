package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
)

// Words that steer a dialogue, in every supported language.
var (
	cancelWords = map[string]bool{"cancel": true, "stop": true, "annuler": true, "arrêter": true, "arreter": true}
	skipWords   = map[string]bool{"skip": true, "-": true, "passer": true, "sauter": true}
)

// dialogueState is what a dialogue remembers between messages; it is sealed at rest
// because answers can be private.
type dialogueState struct {
	Answers map[string]string `json:"answers"`
	// Redo lists fields the flow refused, to be asked again, with their messages.
	Redo   []string          `json:"redo,omitempty"`
	Errors map[string]string `json:"errors,omitempty"`
}

func (a *App) lang(sc scene) string { return catalog.Pick(sc.actor.Locale, sc.community.Locale) }

// startForm shows a form: natively where the adapter can, else as a DM dialogue.
func (a *App) startForm(ctx context.Context, sc scene, form ui.Form) error {
	ad, ok := a.adapters[sc.ev.Platform]
	if !ok {
		return fmt.Errorf("bot: no adapter for %s", sc.ev.Platform)
	}
	rf := a.renderForm(a.lang(sc), form)
	if fo, ok := ad.(FormOpener); ok {
		return fo.OpenForm(ctx, sc.ev, rf)
	}
	formJSON, err := json.Marshal(rf)
	if err != nil {
		return fmt.Errorf("bot: form: %w", err)
	}
	st := dialogueState{Answers: map[string]string{}}
	if err := a.saveDialogue(ctx, sc, string(formJSON), 0, st); err != nil {
		return err
	}
	if !sc.ev.InDM {
		if _, err := ad.Send(ctx, actorDest(sc.ev), a.render(a.lang(sc), ui.Card{Body: []ui.Text{ui.T("dialogue.moved")}})); err != nil {
			return err
		}
	}
	return a.ask(ctx, sc, rf, 0, st)
}

func (a *App) saveDialogue(ctx context.Context, sc scene, form string, step int, st dialogueState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return a.db.InTx(ctx, func(tx *store.Tx) error {
		return tx.SaveDialogue(ctx, store.Dialogue{Platform: sc.ev.Platform, Workspace: sc.ev.Workspace, UserID: sc.ev.UserID, Form: form, Step: step}, b)
	})
}

// current is the field being asked: a refused one first, else the next in order.
func current(rf RenderedForm, step int, st dialogueState) (int, bool) {
	if len(st.Redo) > 0 {
		for i, f := range rf.Fields {
			if f.Name == st.Redo[0] {
				return i, true
			}
		}
	}
	return step, step < len(rf.Fields)
}

// ask sends the question for the current field by direct message.
func (a *App) ask(ctx context.Context, sc scene, rf RenderedForm, step int, st dialogueState) error {
	i, ok := current(rf, step, st)
	if !ok {
		return nil
	}
	f := rf.Fields[i]
	lang := a.lang(sc)
	loc := func(id string, kv ...any) string { return a.localize(lang, ui.T(id, kv...)) }
	msg := Rendered{}
	if step == 0 && len(st.Redo) == 0 && st.Errors[f.Name] == "" {
		msg.Title = rf.Title
		msg.Body = append(msg.Body, loc("dialogue.intro"))
	}
	if e := st.Errors[f.Name]; e != "" {
		msg.Body = append(msg.Body, e)
	}
	msg.Body = append(msg.Body, loc("dialogue.step", "N", i+1, "Total", len(rf.Fields), "Label", f.Label))
	if f.Help != "" {
		msg.Body = append(msg.Body, f.Help)
	}
	for n, o := range f.Options {
		msg.Body = append(msg.Body, fmt.Sprintf("  %d) %s", n+1, o.Label))
	}
	switch {
	case f.Default != "":
		msg.Body = append(msg.Body, loc("dialogue.default", "Value", optionLabel(f, f.Default)))
	case !f.Required:
		msg.Body = append(msg.Body, loc("dialogue.optional"))
	}
	_, err := a.adapters[sc.ev.Platform].Send(ctx, Destination{Kind: DestDM, Workspace: sc.ev.Workspace, UserID: sc.ev.UserID, UserName: sc.ev.UserName}, msg)
	return err
}

func optionLabel(f RenderedFormField, v string) string {
	for _, o := range f.Options {
		if o.Value == v {
			return o.Label
		}
	}
	return Sanitize(v)
}

// dialogueText takes one answer in a DM dialogue.
func (a *App) dialogueText(ctx context.Context, sc scene) (flows.Result, error) {
	ev := sc.ev
	var (
		d     store.Dialogue
		plain []byte
	)
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		d, plain, err = tx.Dialogue(ctx, ev.Platform, ev.Workspace, ev.UserID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		if !sc.actor.IsMember() {
			return a.flows.Notice(ctx, sc.actor)
		}
		return systemReply("dialogue.none"), nil
	}
	if err != nil {
		return flows.Result{}, err
	}
	var rf RenderedForm
	var st dialogueState
	if err := json.Unmarshal([]byte(d.Form), &rf); err != nil {
		return flows.Result{}, fmt.Errorf("bot: dialogue form: %w", err)
	}
	if err := json.Unmarshal(plain, &st); err != nil {
		return flows.Result{}, fmt.Errorf("bot: dialogue state: %w", err)
	}
	if st.Answers == nil {
		st.Answers = map[string]string{}
	}
	text := strings.TrimSpace(ev.Text)
	if cancelWords[strings.ToLower(text)] {
		return a.cancelDialogue(ctx, sc)
	}
	i, ok := current(rf, d.Step, st)
	if !ok {
		return a.finishDialogue(ctx, sc, rf, st)
	}
	f := rf.Fields[i]
	val, problem := answer(f, text)
	if problem != "" {
		if st.Errors == nil {
			st.Errors = map[string]string{}
		}
		st.Errors[f.Name] = a.localize(a.lang(sc), ui.T(problem, "Count", problemCount(f)))
		if err := a.ask(ctx, sc, rf, d.Step, st); err != nil {
			return flows.Result{}, err
		}
		return flows.Result{}, nil
	}
	st.Answers[f.Name] = val
	delete(st.Errors, f.Name)
	step := d.Step
	if len(st.Redo) > 0 {
		st.Redo = st.Redo[1:]
	} else {
		step++
	}
	if _, more := current(rf, step, st); more {
		if err := a.saveDialogue(ctx, sc, d.Form, step, st); err != nil {
			return flows.Result{}, err
		}
		return flows.Result{}, a.ask(ctx, sc, rf, step, st)
	}
	return a.finishDialogue(ctx, sc, rf, st)
}

func problemCount(f RenderedFormField) int {
	if f.Kind == string(ui.FieldChoice) {
		return len(f.Options)
	}
	return f.MaxLen
}

// answer checks one typed answer against its field; problem is a message id.
func answer(f RenderedFormField, text string) (string, string) {
	if skipWords[strings.ToLower(text)] {
		if f.Required && f.Default == "" {
			return "", "error.required"
		}
		return f.Default, ""
	}
	if f.Kind == string(ui.FieldChoice) {
		if n, err := strconv.Atoi(text); err == nil && n >= 1 && n <= len(f.Options) {
			return f.Options[n-1].Value, ""
		}
		for _, o := range f.Options {
			if strings.EqualFold(text, o.Value) || strings.EqualFold(text, o.Label) {
				return o.Value, ""
			}
		}
		return "", "error.choice_number"
	}
	if f.MaxLen > 0 && utf8.RuneCountInString(text) > f.MaxLen {
		return "", "error.too_long"
	}
	return text, ""
}

// finishDialogue submits the answers. The dialogue is removed before the flow runs, so
// a repeated last answer cannot submit twice; if the flow refuses some answers, the
// dialogue comes back asking only for those.
func (a *App) finishDialogue(ctx context.Context, sc scene, rf RenderedForm, st dialogueState) (flows.Result, error) {
	formJSON, _ := json.Marshal(rf)
	var ended bool
	if err := a.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		ended, err = tx.EndDialogue(ctx, sc.ev.Platform, sc.ev.Workspace, sc.ev.UserID)
		return err
	}); err != nil {
		return flows.Result{}, err
	}
	if !ended {
		return flows.Result{}, nil
	}
	res, err := a.submit(ctx, sc, rf.ID, rf.Payload, st.Answers)
	if err != nil {
		_ = a.saveDialogue(ctx, sc, string(formJSON), len(rf.Fields), st)
		return res, err
	}
	if len(res.Errors) == 0 {
		return res, nil
	}
	st.Redo, st.Errors = nil, map[string]string{}
	for _, f := range rf.Fields {
		for _, e := range res.Errors {
			if e.Field == f.Name && !contains(st.Redo, f.Name) {
				st.Redo = append(st.Redo, f.Name)
				st.Errors[f.Name] = a.localize(a.lang(sc), e.Msg)
			}
		}
	}
	if err := a.saveDialogue(ctx, sc, string(formJSON), len(rf.Fields), st); err != nil {
		return flows.Result{}, err
	}
	return flows.Result{Outs: res.Outs}, a.ask(ctx, sc, rf, len(rf.Fields), st)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// cancelDialogue drops an unfinished form; nothing it held is kept.
func (a *App) cancelDialogue(ctx context.Context, sc scene) (flows.Result, error) {
	var ended bool
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		ended, err = tx.EndDialogue(ctx, sc.ev.Platform, sc.ev.Workspace, sc.ev.UserID)
		return err
	})
	if err != nil {
		return flows.Result{}, err
	}
	if !ended {
		return systemReply("dialogue.nothing_to_cancel"), nil
	}
	return systemReply("dialogue.cancelled"), nil
}
