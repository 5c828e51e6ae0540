package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
)

// ActResumeForm asks for the form of the person's open draft again, to open its next
// part or to fix refused answers (adapters with FormParts).
const ActResumeForm = "form.resume"

// draftStep marks a dialogues row holding a native form's draft, not a DM dialogue.
const draftStep = -1

// inParts reports whether the platform's native forms come in parts.
func (a *App) inParts(platform string) bool {
	fp, ok := a.adapters[platform].(FormParts)
	return ok && fp.FormsInParts()
}

// startDraft keeps the form, with no answers yet, as it opens in parts.
func (a *App) startDraft(ctx context.Context, sc scene, rf RenderedForm) error {
	formJSON, err := json.Marshal(rf)
	if err != nil {
		return fmt.Errorf("bot: draft form: %w", err)
	}
	return a.saveDialogue(ctx, sc, string(formJSON), draftStep, dialogueState{Answers: map[string]string{}})
}

// draft loads the person's open draft; ok is false when there is none (sent, cancelled,
// replaced by another form, or purged).
func (a *App) draft(ctx context.Context, sc scene) (rf RenderedForm, st dialogueState, ok bool, err error) {
	var (
		d     store.Dialogue
		plain []byte
	)
	err = a.inEvent(ctx, func(tx *store.Tx) error {
		var err error
		d, plain, err = tx.Dialogue(ctx, sc.ev.Platform, sc.ev.Workspace, sc.ev.UserID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return rf, st, false, nil
	}
	if err != nil {
		return rf, st, false, err
	}
	if d.Step != draftStep {
		return rf, st, false, nil
	}
	if err := json.Unmarshal([]byte(d.Form), &rf); err != nil {
		return rf, st, false, fmt.Errorf("bot: draft form: %w", err)
	}
	if len(plain) > 0 {
		if err := json.Unmarshal(plain, &st); err != nil {
			return rf, st, false, fmt.Errorf("bot: draft answers: %w", err)
		}
	}
	if st.Answers == nil {
		st.Answers = map[string]string{}
	}
	return rf, st, true, nil
}

func (a *App) saveDraft(ctx context.Context, sc scene, rf RenderedForm, st dialogueState) error {
	formJSON, err := json.Marshal(rf)
	if err != nil {
		return fmt.Errorf("bot: draft form: %w", err)
	}
	return a.saveDialogue(ctx, sc, string(formJSON), draftStep, st)
}

// submitPart merges one part of a form into the draft. Choice answers typed as text are
// matched to their options (by number, value or label); the last part submits the whole
// form, and if the flow refuses some answers the draft stays for the person to fix them.
func (a *App) submitPart(ctx context.Context, sc scene) (flows.Result, error) {
	rf, st, ok, err := a.draft(ctx, sc)
	if err != nil {
		return flows.Result{}, err
	}
	if !ok || rf.ID != sc.ev.FormID || rf.Payload != sc.ev.FormPayload {
		return systemResult("form.expired"), nil
	}
	var errs []ui.FieldError
	for _, f := range rf.Fields {
		v, given := sc.ev.Values[f.Name]
		if !given {
			continue
		}
		v = strings.TrimSpace(v)
		if f.Kind == string(ui.FieldChoice) {
			if v == "" {
				v = f.Default
			} else {
				val, problem := answer(f, v)
				if problem != "" {
					errs = append(errs, ui.FieldError{Field: f.Name, Msg: ui.T("form.choice", "Options", optionList(f))})
					continue
				}
				v = val
			}
		}
		st.Answers[f.Name] = v
	}
	if len(errs) > 0 || sc.ev.Partial {
		return flows.Result{Errors: errs}, a.saveDraft(ctx, sc, rf, st)
	}
	res, err := a.submit(ctx, sc, rf.ID, rf.Payload, st.Answers)
	if err != nil {
		return res, err
	}
	if len(res.Errors) > 0 {
		return res, a.saveDraft(ctx, sc, rf, st)
	}
	return res, a.inEvent(ctx, func(tx *store.Tx) error {
		_, err := tx.EndDialogue(ctx, sc.ev.Platform, sc.ev.Workspace, sc.ev.UserID)
		return err
	})
}

// optionList names a choice's options for a message: "Yes, No".
func optionList(f RenderedFormField) string {
	labels := make([]string, 0, len(f.Options))
	for _, o := range f.Options {
		labels = append(labels, o.Label)
	}
	return strings.Join(labels, ", ")
}

// resumeForm gives the draft's form again with the answers so far filled in, except
// private ones, which are never echoed.
func (a *App) resumeForm(ctx context.Context, sc scene) (flows.Result, *RenderedForm, error) {
	rf, st, ok, err := a.draft(ctx, sc)
	if err != nil || !ok {
		return systemResult("form.expired"), nil, err
	}
	for i, f := range rf.Fields {
		if v, ok := st.Answers[f.Name]; ok && !f.Private {
			rf.Fields[i].Default = v
		}
	}
	return flows.Result{}, &rf, nil
}
