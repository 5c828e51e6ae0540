package flows

import (
	"context"
	"strings"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// Any is the list value meaning every area or every day.
const Any = "any"

// VolunteerForm signs a member up as a volunteer, or edits their profile.
func (s *Service) VolunteerForm(ctx context.Context, a Actor) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	var res Result
	err := s.read(ctx, func(tx *store.Tx) error {
		cats, err := tx.Categories(ctx, a.CommunityID)
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(cats))
		for _, c := range cats {
			keys = append(keys, c.Key)
		}
		p, err := tx.VolunteerProfile(ctx, a.MemberID)
		if err != nil && !isNotFound(err) {
			return err
		}
		title := "volunteer.form.title"
		if err == nil {
			title = "volunteer.form.edit_title"
		}
		res.Form = &ui.Form{ID: FormVolunteer, Title: ui.T(title), Fields: []ui.FormField{
			{Name: "categories", Kind: ui.FieldText, Label: ui.T("volunteer.field.categories"),
				Help: ui.T("help.categories", "List", strings.Join(keys, ", ")), Required: true, MaxLen: MaxList, Default: p.Categories},
			{Name: "areas", Kind: ui.FieldText, Label: ui.T("volunteer.field.areas"), Help: ui.T("help.areas"), Required: true, MaxLen: MaxList, Default: p.Areas},
			{Name: "days", Kind: ui.FieldText, Label: ui.T("volunteer.field.days"), Help: ui.T("help.days"), Required: true, MaxLen: MaxList, Default: p.Availability},
		}}
		return nil
	})
	return res, err
}

// Volunteer saves a volunteer profile from the submitted form.
func (s *Service) Volunteer(ctx context.Context, a Actor, in map[string]string) (Result, error) {
	return s.memberRun(ctx, a, func(tx *store.Tx) (Result, error) {
		v := newValues(in)
		var cats []string
		for _, c := range list(v.text("categories", true, MaxList)) {
			c = strings.ToLower(c)
			if _, err := tx.Category(ctx, a.CommunityID, c); err != nil {
				if !isNotFound(err) {
					return Result{}, err
				}
				v.fail("categories", "error.category_named", "Name", ui.UserText(c))
				continue
			}
			cats = appendOnce(cats, c)
		}
		var areas []string
		for _, ar := range list(v.text("areas", true, MaxList)) {
			if len([]rune(ar)) > 40 {
				v.fail("areas", "error.too_long", "Count", 40)
			}
			areas = appendOnce(areas, strings.ToLower(ar))
		}
		var days []string
		for _, d := range list(v.text("days", true, MaxList)) {
			if f := fold(d); f == Any || f == "tous" || f == "tout" {
				days = appendOnce(days, Any)
				continue
			}
			wd, ok := ParseDay(d)
			if !ok {
				v.fail("days", "error.day_named", "Name", ui.UserText(d))
				continue
			}
			days = appendOnce(days, DayKey(wd))
		}
		if len(v.errs) > 0 {
			return Result{Errors: v.errs}, nil
		}
		p := store.VolunteerProfile{MemberID: a.MemberID, Categories: store.JoinList(cats), Areas: store.JoinList(areas), Availability: store.JoinList(days)}
		if old, err := tx.VolunteerProfile(ctx, a.MemberID); err == nil {
			p.Paused = old.Paused
		}
		created, err := tx.SaveVolunteerProfile(ctx, p)
		if err != nil {
			return Result{}, err
		}
		action, msg := "volunteer.updated", "volunteer.updated"
		if created {
			action, msg = "volunteer.joined", "volunteer.joined"
		}
		if err := s.audit(ctx, tx, a, action, "member:"+ref(a.MemberID), ""); err != nil {
			return Result{}, err
		}
		return reply(msg, "Categories", ui.UserText(p.Categories), "Areas", ui.UserText(p.Areas), "Days", ui.UserText(p.Availability)), nil
	})
}

// Pause stops (or resumes) a volunteer's notifications without losing their profile.
func (s *Service) Pause(ctx context.Context, a Actor, paused bool) (Result, error) {
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		if _, err := tx.VolunteerProfile(ctx, a.MemberID); isNotFound(err) {
			return reply("volunteer.none"), false, nil
		} else if err != nil {
			return Result{}, false, err
		}
		changed, err := tx.SetPaused(ctx, a.MemberID, paused)
		if err != nil {
			return Result{}, false, err
		}
		msg := map[bool]string{true: "volunteer.paused", false: "volunteer.resumed"}[paused]
		if !changed {
			return reply(msg + "_already"), false, nil
		}
		if err := s.audit(ctx, tx, a, msg, "member:"+ref(a.MemberID), ""); err != nil {
			return Result{}, false, err
		}
		return reply(msg), true, nil
	})
}

// list splits a comma or space separated answer.
func list(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func appendOnce(xs []string, x string) []string {
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	return append(xs, x)
}
