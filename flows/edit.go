package flows

import (
	"context"
	"strings"
	"time"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// Editing a request. Its requester, and only they, may change the public part (summary,
// area, how they are named), the time and the private part while it is open or matched.
// The board card is rendered again under the same key, so it changes in place; helpers
// hear what changed (the public part only); a new time is put to each helper to confirm
// (reschedule.go); new private details reach an accepted helper only under the consent
// the requester gave when accepting them, with a disclosure row, as Accept does.

// Buttons, form and answers of editing.
const (
	ActEdit  = "edit"
	FormEdit = "edit"
	// clearNone, clearAll and the private field names are the answers of the edit form's
	// "remove private details" choice.
	clearNone = "none"
	clearAll  = "all"
)

// editRoutes adds editing and rescheduling.
func (s *Service) editRoutes(r *Routes) {
	r.Buttons[ActEdit] = func(ctx context.Context, a Actor, payload, _ string) (Result, error) {
		return s.EditForm(ctx, a, ID(payload))
	}
	r.Buttons[ActRescheduleYes] = func(ctx context.Context, a Actor, payload, _ string) (Result, error) {
		return s.RescheduleAnswer(ctx, a, ID(payload), true)
	}
	r.Buttons[ActRescheduleNo] = func(ctx context.Context, a Actor, payload, _ string) (Result, error) {
		return s.RescheduleAnswer(ctx, a, ID(payload), false)
	}
	r.Forms[FormEdit] = s.Edit
	for _, name := range []string{"edit", "modifier"} {
		r.Commands[name] = s.EditCommand
	}
}

// editButton opens the edit form of a request.
func editButton(id int64) ui.Button {
	return ui.Button{Label: ui.T("edit.button"), Action: ActEdit, Payload: ref(id)}
}

// editable loads a request its requester may change; why is the kind refusal otherwise.
func editable(ctx context.Context, tx *store.Tx, a Actor, id int64) (store.Request, string, error) {
	r, err := tx.Request(ctx, id)
	switch {
	case isNotFound(err):
		return r, "error.gone", nil
	case err != nil:
		return r, "", err
	case r.CommunityID != a.CommunityID:
		return r, "error.gone", nil
	}
	// The one who asked for someone else edits their request as their own.
	if own, err := speaksFor(ctx, tx, a.MemberID, r.RequesterID); err != nil || !own {
		return r, "edit.not_yours", err
	}
	if r.Status != "open" && r.Status != "matched" {
		return r, "edit.closed", nil
	}
	return r, "", nil
}

// EditCommand is "/tend edit [number]": the form of that request, or the person's
// requests that can still change, each with its Edit button.
func (s *Service) EditCommand(ctx context.Context, a Actor, args []string) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	if len(args) > 0 {
		id := ID(strings.TrimPrefix(args[0], "#"))
		if id == 0 {
			return reply("edit.usage"), nil
		}
		return s.EditForm(ctx, a, id)
	}
	var res Result
	err := s.read(ctx, func(tx *store.Tx) error {
		c, _, err := community(ctx, tx, a.CommunityID)
		if err != nil {
			return err
		}
		reqs, err := tx.RequestsBy(ctx, a.MemberID)
		if err != nil {
			return err
		}
		others, err := tx.RequestsFor(ctx, a.MemberID)
		if err != nil {
			return err
		}
		reqs = append(reqs, others...)
		if len(reqs) == 0 {
			res = reply("edit.none")
			return nil
		}
		res = reply("edit.pick")
		for _, r := range reqs {
			res.add(ui.Out{To: ui.Actor(), Card: ui.Card{
				Body:    []ui.Text{requestTitle(r)},
				Fields:  []ui.Field{{Label: ui.T("field.when"), Value: ui.T("value.window", "Window", window(r.StartsAt, r.EndsAt, c.Timezone))}},
				Buttons: []ui.Button{editButton(r.ID)},
			}})
		}
		return nil
	})
	return res, err
}

// windowDefaults are a request's window as the when and until fields read it back:
// "2026-11-26 13:00" and "16:00" (or a full date and time when it ends another day).
func windowDefaults(r store.Request, loc *time.Location) (string, string) {
	start, end := time.Unix(r.StartsAt, 0).In(loc), time.Unix(r.EndsAt, 0).In(loc)
	until := end.Format("15:04")
	if y, m, d := end.Date(); y != start.Year() || m != start.Month() || d != start.Day() {
		until = end.Format("2006-01-02 15:04")
	}
	return start.Format("2006-01-02 15:04"), until
}

// EditForm is the ask form's editable fields with the request's current public values.
// Private values are never put in the form (a dialogue keeps its form in clear): a field
// left empty keeps what was given, and a choice removes what is no longer right.
func (s *Service) EditForm(ctx context.Context, a Actor, requestID int64) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	var res Result
	err := s.read(ctx, func(tx *store.Tx) error {
		r, why, err := editable(ctx, tx, a, requestID)
		if err != nil || why != "" {
			res = reply(why)
			return err
		}
		_, loc, err := community(ctx, tx, r.CommunityID)
		if err != nil {
			return err
		}
		priv, err := tx.RequestPrivate(r)
		if err != nil {
			return err
		}
		when, until := windowDefaults(r, loc)
		show := Anonymous
		if r.ShowName {
			show = ShowName
		}
		keep := func(given bool) ui.Text {
			if given {
				return ui.T("edit.help.keep")
			}
			return ui.T("help.private")
		}
		fields := []ui.FormField{
			{Name: "when", Kind: ui.FieldDateTime, Label: ui.T("ask.field.when"), Help: ui.T("help.when"), Required: true, MaxLen: 40, Default: when},
			{Name: "until", Kind: ui.FieldText, Label: ui.T("ask.field.until"), Help: ui.T("help.until"), MaxLen: 40, Default: until},
			{Name: "area", Kind: ui.FieldText, Label: ui.T("ask.field.area"), Help: ui.T("help.area"), Required: true, MaxLen: MaxArea, Default: r.Area},
			{Name: "summary", Kind: ui.FieldText, Label: ui.T("ask.field.summary"), Help: ui.T("help.summary"), Required: true, MaxLen: MaxSummary, Default: r.Summary},
			{Name: "address", Kind: ui.FieldText, Label: ui.T("ask.field.address"), Help: keep(priv.Address != ""), MaxLen: MaxAddress, Private: true},
			{Name: "phone", Kind: ui.FieldText, Label: ui.T("ask.field.phone"), Help: keep(priv.Phone != ""), MaxLen: MaxPhone, Private: true},
			{Name: "notes", Kind: ui.FieldLongText, Label: ui.T("ask.field.notes"), Help: keep(priv.Notes != ""), MaxLen: MaxNotes, Private: true},
		}
		if !priv.Empty() {
			opts := []ui.Option{{Label: ui.T("edit.clear.none"), Value: clearNone}}
			for _, f := range []struct {
				given bool
				name  string
				label ui.Text
			}{{priv.Address != "", "address", ui.T("edit.clear.address")}, {priv.Phone != "", "phone", ui.T("edit.clear.phone")}, {priv.Notes != "", "notes", ui.T("edit.clear.notes")}} {
				if f.given {
					opts = append(opts, ui.Option{Label: f.label, Value: f.name})
				}
			}
			opts = append(opts, ui.Option{Label: ui.T("edit.clear.all"), Value: clearAll})
			fields = append(fields, ui.FormField{Name: "clear", Kind: ui.FieldChoice, Label: ui.T("edit.field.clear"), Help: ui.T("edit.help.clear"),
				Default: clearNone, Options: opts})
		}
		fields = append(fields, ui.FormField{Name: "show_name", Kind: ui.FieldChoice, Label: ui.T("ask.field.show_name"), Default: show, Options: []ui.Option{
			{Label: ui.T("option.anonymous"), Value: Anonymous}, {Label: ui.T("option.show_name"), Value: ShowName}}})
		res.Form = &ui.Form{ID: FormEdit, Payload: ref(r.ID), Title: ui.T("edit.form.title", "Summary", ui.UserText(r.Summary)), Fields: fields}
		return nil
	})
	return res, err
}

// requestChange is a validated edit and what it changes.
type requestChange struct {
	store.RequestEdit
	priv                  store.Private
	public, time, private bool
}

// readEdit validates an edit form as Ask validates the ask form. The window given back
// unchanged is kept as it is, so an edit of a request whose window has begun is not
// refused for a start in the past.
func readEdit(r store.Request, old store.Private, in map[string]string, now time.Time, loc *time.Location) (requestChange, []ui.FieldError) {
	v := newValues(in)
	ch := requestChange{RequestEdit: store.RequestEdit{StartsAt: r.StartsAt, EndsAt: r.EndsAt}}
	defWhen, defUntil := windowDefaults(r, loc)
	whenIn := v.text("when", true, 40)
	untilIn := v.text("until", false, 40)
	if whenIn != "" && (whenIn != defWhen || untilIn != defUntil) {
		start, end, err := ParseWindow(whenIn, untilIn, now, loc)
		if err != nil {
			v.whenError("when", "until", err)
		} else {
			ch.StartsAt, ch.EndsAt = start.Unix(), end.Unix()
		}
	}
	ch.Area = v.text("area", true, MaxArea)
	ch.Summary = v.text("summary", true, MaxSummary)
	show := Anonymous
	if r.ShowName {
		show = ShowName
	}
	ch.ShowName = v.choice("show_name", show, Anonymous, ShowName) == ShowName
	given := store.Private{
		Address: v.text("address", false, MaxAddress),
		Phone:   v.text("phone", false, MaxPhone),
		Notes:   v.long("notes", MaxNotes),
	}
	remove := v.choice("clear", clearNone, clearNone, "address", "phone", "notes", clearAll)
	if (remove == "address" && given.Address != "") || (remove == "phone" && given.Phone != "") ||
		(remove == "notes" && given.Notes != "") || (remove == clearAll && !given.Empty()) {
		v.fail("clear", "edit.error.clear_conflict")
	}
	if len(v.errs) > 0 {
		return ch, v.errs
	}
	ch.priv = old
	if remove == "address" || remove == clearAll {
		ch.priv.Address = ""
	}
	if remove == "phone" || remove == clearAll {
		ch.priv.Phone = ""
	}
	if remove == "notes" || remove == clearAll {
		ch.priv.Notes = ""
	}
	if given.Address != "" {
		ch.priv.Address = given.Address
	}
	if given.Phone != "" {
		ch.priv.Phone = given.Phone
	}
	if given.Notes != "" {
		ch.priv.Notes = given.Notes
	}
	ch.public = ch.Summary != r.Summary || ch.Area != r.Area || ch.ShowName != r.ShowName
	ch.time = ch.StartsAt != r.StartsAt || ch.EndsAt != r.EndsAt
	ch.private = ch.priv != old
	return ch, nil
}

// changed names what an edit changed, for the audit log (names only, never values).
func (ch requestChange) changed(r store.Request) string {
	var fs []string
	for _, f := range []struct {
		yes  bool
		name string
	}{{ch.Summary != r.Summary, "summary"}, {ch.Area != r.Area, "area"}, {ch.ShowName != r.ShowName, "show_name"}, {ch.time, "time"}, {ch.private, "private"}} {
		if f.yes {
			fs = append(fs, f.name)
		}
	}
	return store.JoinList(fs)
}

// Edit applies a submitted edit form in one transaction: the request changes, the board
// card is rendered again in place, helpers are told or asked, and new private details go
// where the requester's consent already lets them. Bad input changes nothing; new words
// are screened for a crisis signal as the ask form's are.
func (s *Service) Edit(ctx context.Context, a Actor, payload string, in map[string]string) (Result, error) {
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		r, why, err := editable(ctx, tx, a, ID(payload))
		if err != nil || why != "" {
			return reply(why), false, err
		}
		com, loc, err := community(ctx, tx, r.CommunityID)
		if err != nil {
			return Result{}, false, err
		}
		old, err := tx.RequestPrivate(r)
		if err != nil {
			return Result{}, false, err
		}
		ch, errs := readEdit(r, old, in, s.db.Now(), loc)
		if len(errs) > 0 {
			return Result{Errors: errs}, false, nil
		}
		if !ch.public && !ch.time && !ch.private {
			return reply("edit.unchanged"), false, nil
		}
		if !released(ctx) {
			// Only new words are screened: what was posted already was, or was chosen.
			var texts []string
			if ch.Summary != r.Summary {
				texts = append(texts, ch.Summary)
			}
			if ch.Area != r.Area {
				texts = append(texts, ch.Area)
			}
			if ch.priv.Notes != old.Notes {
				texts = append(texts, ch.priv.Notes)
			}
			if tier := s.screen(a.CommunityID, texts...); tier != "" {
				res, err := s.signal(ctx, tx, a, tier, "ask", &heldForm{Form: FormEdit, Payload: ref(r.ID), Values: in})
				return res, true, err
			}
		}
		prev := r
		if err := tx.EditRequest(ctx, r.ID, ch.RequestEdit); err != nil {
			return Result{}, false, err
		}
		if ch.private {
			if err := tx.SetRequestPrivate(ctx, r.ID, ch.priv); err != nil {
				return Result{}, false, err
			}
		}
		if err := s.audit(ctx, tx, a, "request.edited", "request:"+ref(r.ID), "changed="+ch.changed(prev)); err != nil {
			return Result{}, false, err
		}
		if r, err = tx.Request(ctx, r.ID); err != nil {
			return Result{}, false, err
		}
		told, err := s.tellHelpers(ctx, tx, a, prev, r, ch, com.Timezone)
		if err != nil {
			return Result{}, false, err
		}
		res := Result{Outs: []ui.Out{{To: ui.Actor(), Card: editedCard(r, ch, told, com.Timezone)}}}
		res.add(told.outs...)
		if ch.public || ch.time {
			board, err := boardRequest(ctx, tx, r, com.Timezone)
			if err != nil {
				return Result{}, false, err
			}
			res.add(board)
		}
		res.Jobs = told.jobs
		if ch.time {
			// The expiry scheduled for the old end finds the request not yet ended and
			// leaves it; this one closes it at the new end.
			res.Jobs = append(res.Jobs, Job{Kind: JobExpire, Ref: r.ID, At: r.EndsAt})
		}
		return res, true, nil
	})
}

// editedCard tells the requester their edit is saved and who heard of it.
func editedCard(r store.Request, ch requestChange, told helpersTold, zone string) ui.Card {
	card := ui.Card{
		Title:   ui.T("edit.saved.title"),
		Body:    []ui.Text{requestTitle(r)},
		Fields:  []ui.Field{{Label: ui.T("field.when"), Value: ui.T("value.window", "Window", window(r.StartsAt, r.EndsAt, zone))}, {Label: ui.T("field.area"), Value: ui.T("value.text", "Text", ui.UserText(r.Area))}},
		Buttons: []ui.Button{editButton(r.ID), {Label: ui.T("button.cancel_request"), Action: ActCancel, Payload: ref(r.ID), Style: ui.StyleDanger}},
	}
	if ch.public || ch.time {
		card.Body = append(card.Body, ui.T("edit.saved.board"))
	}
	if told.asked > 0 {
		card.Body = append(card.Body, ui.T("edit.saved.asked", "Count", told.asked))
	} else if told.informed > 0 {
		card.Body = append(card.Body, ui.T("edit.saved.told", "Count", told.informed))
	}
	if ch.private {
		switch {
		case len(told.shared) > 0 && ch.priv.Empty():
			card.Body = append(card.Body, ui.T("edit.saved.private_removed", "Names", ui.UserText(strings.Join(told.shared, ", "))))
		case len(told.shared) > 0:
			card.Body = append(card.Body, ui.T("edit.saved.private_shared", "Names", ui.UserText(strings.Join(told.shared, ", "))))
		default:
			card.Body = append(card.Body, ui.T("edit.saved.private_sealed"))
		}
	}
	return card
}
