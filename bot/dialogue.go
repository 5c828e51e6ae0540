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

// forms shows a form the flow asked for: natively where the adapter can (the reply
// carries it), else as a DM dialogue whose first question goes out with the result.
func (a *App) forms(ctx context.Context, tx *store.Tx, sc scene, res *flows.Result, reply *Reply) error {
	if sc.resume != nil {
		reply.Form = sc.resume
		return nil
	}
	if res.Form == nil {
		return nil
	}
	rf := a.renderForm(a.lang(sc), *res.Form)
	res.Form = nil
	if a.nativeForm(sc.ev) {
		reply.Form = &rf
		if a.inParts(sc.ev.Platform) {
			return a.startDraft(ctx, sc, rf)
		}
		return nil
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
		res.Outs = append(res.Outs, ui.Out{To: ui.Actor(), Card: ui.Card{Body: []ui.Text{ui.T("dialogue.moved")}}})
	}
	res.Outs = append(res.Outs, a.ask(sc, rf, 0, st))
	return nil
}

// nativeForm reports whether the event's adapter can show a form natively for it.
func (a *App) nativeForm(ev Event) bool {
	ad := a.adapters[ev.Platform]
	if eo, ok := ad.(EventFormOpener); ok {
		return eo.CanOpenFormFor(ev)
	}
	fo, ok := ad.(FormOpener)
	return ok && fo.CanOpenForms()
}

func (a *App) saveDialogue(ctx context.Context, sc scene, form string, step int, st dialogueState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return a.inEvent(ctx, func(tx *store.Tx) error {
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

// ask is the question for the current field, addressed to the person's DMs: as the
// reply when they are writing there, else through the outbox.
func (a *App) ask(sc scene, rf RenderedForm, step int, st dialogueState) ui.Out {
	to := ui.Actor()
	switch {
	case sc.ev.InDM:
	case sc.actor.MemberID != 0:
		to = ui.Member(sc.actor.MemberID)
	default:
		// Someone setting tend up belongs to no community yet: their own DMs.
		to = ui.ActorDM()
	}
	i, ok := current(rf, step, st)
	if !ok {
		return ui.Out{To: to}
	}
	f := rf.Fields[i]
	lang := a.lang(sc)
	loc := func(id string, kv ...any) ui.Text { return ui.RawText(a.localize(lang, ui.T(id, kv...))) }
	var card ui.Card
	if step == 0 && len(st.Redo) == 0 && st.Errors[f.Name] == "" {
		card.Title = ui.RawText(rf.Title)
		card.Body = append(card.Body, loc("dialogue.intro"))
	}
	if e := st.Errors[f.Name]; e != "" {
		card.Body = append(card.Body, ui.RawText(e))
	}
	card.Body = append(card.Body, loc("dialogue.step", "N", i+1, "Total", len(rf.Fields), "Label", f.Label))
	if f.Help != "" {
		card.Body = append(card.Body, ui.RawText(f.Help))
	}
	for n, o := range f.Options {
		card.Body = append(card.Body, ui.RawText(fmt.Sprintf("  %d) %s", n+1, o.Label)))
	}
	switch {
	case f.Default != "":
		card.Body = append(card.Body, loc("dialogue.default", "Value", optionLabel(f, f.Default)))
	case !f.Required:
		card.Body = append(card.Body, loc("dialogue.optional"))
	}
	return ui.Out{To: to, Card: card}
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
	err := a.inEvent(ctx, func(tx *store.Tx) error {
		var err error
		d, plain, err = tx.Dialogue(ctx, ev.Platform, ev.Workspace, ev.UserID)
		return err
	})
	if err == nil && d.Step == draftStep {
		err = store.ErrNotFound // a native form's draft is not answered by text
	}
	if errors.Is(err, store.ErrNotFound) {
		if !sc.actor.IsMember() {
			return a.flows.Notice(ctx, sc.actor)
		}
		return systemResult("dialogue.none"), nil
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
		return flows.Result{Outs: []ui.Out{a.ask(sc, rf, d.Step, st)}}, nil
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
		return flows.Result{Outs: []ui.Out{a.ask(sc, rf, step, st)}}, nil
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

// finishDialogue submits the answers in the event's transaction: if the flow fails, the
// dialogue is still there; if it refuses some answers, the dialogue asks only for those.
func (a *App) finishDialogue(ctx context.Context, sc scene, rf RenderedForm, st dialogueState) (flows.Result, error) {
	if err := a.inEvent(ctx, func(tx *store.Tx) error {
		_, err := tx.EndDialogue(ctx, sc.ev.Platform, sc.ev.Workspace, sc.ev.UserID)
		return err
	}); err != nil {
		return flows.Result{}, err
	}
	res, err := a.submit(ctx, sc, rf.ID, rf.Payload, st.Answers)
	if err != nil || len(res.Errors) == 0 {
		return res, err
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
	formJSON, err := json.Marshal(rf)
	if err != nil {
		return flows.Result{}, err
	}
	if err := a.saveDialogue(ctx, sc, string(formJSON), len(rf.Fields), st); err != nil {
		return flows.Result{}, err
	}
	return flows.Result{Outs: append(res.Outs, a.ask(sc, rf, len(rf.Fields), st))}, nil
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
	err := a.inEvent(ctx, func(tx *store.Tx) error {
		var err error
		ended, err = tx.EndDialogue(ctx, sc.ev.Platform, sc.ev.Workspace, sc.ev.UserID)
		return err
	})
	if err != nil {
		return flows.Result{}, err
	}
	if !ended {
		return systemResult("dialogue.nothing_to_cancel"), nil
	}
	return systemResult("dialogue.cancelled"), nil
}

// inDialogue reports whether the person is answering a form in the DM dialogue.
func (a *App) inDialogue(ctx context.Context, sc scene) (bool, error) {
	var d store.Dialogue
	err := a.inEvent(ctx, func(tx *store.Tx) error {
		var err error
		d, _, err = tx.Dialogue(ctx, sc.ev.Platform, sc.ev.Workspace, sc.ev.UserID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil && d.Step != draftStep, err
}
