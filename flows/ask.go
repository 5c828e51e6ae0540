package flows

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// AskForm is the form for asking for help. Every privacy choice starts at its most
// private: anonymous on the board, details not shared until the requester decides.
func (s *Service) AskForm(ctx context.Context, a Actor) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	var res Result
	err := s.read(ctx, func(tx *store.Tx) error {
		cats, err := tx.Categories(ctx, a.CommunityID)
		if err != nil {
			return err
		}
		spaces, err := spacesField(ctx, tx, a)
		if err != nil {
			return err
		}
		res.Form = &ui.Form{ID: FormAsk, Title: ui.T("ask.form.title"), Fields: []ui.FormField{
			{Name: "category", Kind: ui.FieldChoice, Label: ui.T("ask.field.category"), Options: categoryOptions(cats), Required: true},
			{Name: "when", Kind: ui.FieldDateTime, Label: ui.T("ask.field.when"), Help: ui.T("help.when"), Required: true, MaxLen: 40},
			{Name: "until", Kind: ui.FieldText, Label: ui.T("ask.field.until"), Help: ui.T("help.until"), MaxLen: 40},
			{Name: "area", Kind: ui.FieldText, Label: ui.T("ask.field.area"), Help: ui.T("help.area"), Required: true, MaxLen: MaxArea},
			{Name: "summary", Kind: ui.FieldText, Label: ui.T("ask.field.summary"), Help: ui.T("help.summary"), Required: true, MaxLen: MaxSummary},
			{Name: "address", Kind: ui.FieldText, Label: ui.T("ask.field.address"), Help: ui.T("help.private"), MaxLen: MaxAddress, Private: true},
			{Name: "phone", Kind: ui.FieldText, Label: ui.T("ask.field.phone"), Help: ui.T("help.private"), MaxLen: MaxPhone, Private: true},
			{Name: "notes", Kind: ui.FieldLongText, Label: ui.T("ask.field.notes"), Help: ui.T("help.private"), MaxLen: MaxNotes, Private: true},
			{Name: "show_name", Kind: ui.FieldChoice, Label: ui.T("ask.field.show_name"), Default: Anonymous, Options: []ui.Option{
				{Label: ui.T("option.anonymous"), Value: Anonymous}, {Label: ui.T("option.show_name"), Value: ShowName}}},
			{Name: "may_share", Kind: ui.FieldChoice, Label: ui.T("ask.field.may_share"), Help: ui.T("help.may_share"), Default: No, Options: yesNo(No)},
			{Name: "follow_up", Kind: ui.FieldChoice, Label: ui.T("ask.field.follow_up"), Default: No, Options: yesNo(No)},
		}}
		if spaces != nil {
			// After the name's choice: both say who sees the request.
			i := slices.IndexFunc(res.Form.Fields, func(f ui.FormField) bool { return f.Name == "show_name" }) + 1
			res.Form.Fields = slices.Insert(res.Form.Fields, i, *spaces)
		}
		return nil
	})
	return res, err
}

func categoryOptions(cats []store.Category) []ui.Option {
	opts := make([]ui.Option, 0, len(cats))
	for _, c := range cats {
		opts = append(opts, ui.Option{Label: categoryName(c), Value: c.Key})
	}
	return opts
}

// Ask records a request from a submitted ask form, posts its public part to the board
// and tells matching volunteers privately. Bad input changes nothing.
func (s *Service) Ask(ctx context.Context, a Actor, in map[string]string) (Result, error) {
	return s.memberRun(ctx, a, func(tx *store.Tx) (Result, error) { return s.ask(ctx, tx, a, in, FormAsk) })
}

// ask records a request from the ask form, or from the ask-for form (FormAskFor) for a
// person without a platform account whom the actor speaks for (flows/people.go).
func (s *Service) ask(ctx context.Context, tx *store.Tx, a Actor, in map[string]string, form string) (Result, error) {
	c, loc, err := community(ctx, tx, a.CommunityID)
	if err != nil {
		return Result{}, err
	}
	v := newValues(in)
	var person *store.Person
	if form == FormAskFor {
		p, agreed := askForPerson(v)
		if !agreed {
			// Without the person's agreement nothing is kept, and the asker hears why.
			return reply("ask_for.not_agreed"), nil
		}
		person = &p
	}
	cat := strings.ToLower(v.text("category", true, 40))
	helpers := 1
	if cat != "" {
		if c, err := tx.Category(ctx, a.CommunityID, cat); err != nil {
			if !isNotFound(err) {
				return Result{}, err
			}
			v.fail("category", "error.category")
		} else {
			helpers = c.Helpers
		}
	}
	whenIn := v.text("when", true, 40)
	untilIn := v.text("until", false, 40)
	var start, end time.Time
	if whenIn != "" {
		start, end, err = ParseWindow(whenIn, untilIn, s.db.Now(), loc)
		if err != nil {
			v.whenError("when", "until", err)
		}
	}
	area := v.text("area", true, MaxArea)
	summary := v.text("summary", true, MaxSummary)
	priv := store.Private{
		Address: v.text("address", false, MaxAddress),
		Phone:   v.text("phone", false, MaxPhone),
		Notes:   v.long("notes", MaxNotes),
	}
	show := v.choice("show_name", Anonymous, Anonymous, ShowName) == ShowName
	share := v.choice("may_share", No, Yes, No) == Yes
	everywhere := v.choice(FieldSpaces, SpacesHere, SpacesHere, SpacesAll) == SpacesAll
	follow := v.choice("follow_up", No, Yes, No) == Yes
	if len(v.errs) > 0 {
		return Result{Errors: v.errs}, nil
	}
	if !released(ctx) {
		// A crisis signal holds the request: the person is answered first, privately.
		if tier := s.screen(a.CommunityID, summary, area, priv.Notes); tier != "" {
			return s.signal(ctx, tx, a, tier, "ask", &heldForm{Form: form, Values: in})
		}
	}
	requester, evidence, detail := a.MemberID, a.evidence("ask.follow_up"), "category="+cat
	if everywhere {
		detail += " shared=all"
	}
	var forWhom []ui.Text
	if person != nil {
		m, err := s.beneficiary(ctx, tx, a, *person)
		if err != nil {
			return Result{}, err
		}
		requester, evidence, detail = m.ID, statedBy(a), detail+" for=member:"+ref(m.ID)
		forWhom = []ui.Text{ui.T("ask_for.posted", "Name", nameOf(m))}
	}
	id, err := tx.CreateRequest(ctx, store.NewRequest{
		CommunityID: a.CommunityID, RequesterID: requester, Category: cat, Summary: summary, Area: area,
		StartsAt: start.Unix(), EndsAt: end.Unix(), ShowName: show, MayShare: share, Slots: 1, Capacity: helpers, Private: priv,
		OriginPlatform: a.Platform, OriginWorkspace: a.Workspace, Shared: everywhere,
	})
	if err != nil {
		return Result{}, err
	}
	if follow {
		if _, err := tx.GrantScopedConsent(ctx, requester, store.PurposeFollowUp, store.Scope{Request: id}, evidence); err != nil {
			return Result{}, err
		}
	}
	if err := s.audit(ctx, tx, a, "request.created", "request:"+ref(id), detail); err != nil {
		return Result{}, err
	}
	r, err := tx.Request(ctx, id)
	if err != nil {
		return Result{}, err
	}
	var res Result
	res.add(ui.Out{To: ui.Actor(), Card: ui.Card{
		Title:   ui.T("ask.posted.title"),
		Body:    append(append([]ui.Text{requestTitle(r)}, forWhom...), ui.T("ask.posted.body")),
		Buttons: []ui.Button{{Label: ui.T("button.cancel_request"), Action: ActCancel, Payload: ref(id), Style: ui.StyleDanger}},
	}})
	board, err := boardRequest(ctx, tx, r, c.Timezone)
	if err != nil {
		return Result{}, err
	}
	res.add(board)
	notices, err := matchNotices(ctx, tx, r, c.Timezone)
	if err != nil {
		return Result{}, err
	}
	res.add(notices...)
	res.Jobs = askJobs(r, tx.Now())
	return res, nil
}

// The ask form's choice of where a request shows, offered only when the community has
// more than one space.
const (
	FieldSpaces = "spaces"
	SpacesHere  = "here"
	SpacesAll   = "all"
)

// spacesField is the question "show it in our other spaces too?", most private first; nil
// when the community has one space only (the form stays as it always was).
func spacesField(ctx context.Context, tx *store.Tx, a Actor) (*ui.FormField, error) {
	bs, err := tx.Bindings(ctx, a.CommunityID)
	if err != nil || len(bs) < 2 {
		return nil, err
	}
	return &ui.FormField{Name: FieldSpaces, Kind: ui.FieldChoice, Label: ui.T("spaces.ask.field"), Help: ui.T("spaces.ask.help"), Default: SpacesHere,
		Options: []ui.Option{{Label: ui.T("spaces.ask.here"), Value: SpacesHere}, {Label: ui.T("spaces.ask.all"), Value: SpacesAll}}}, nil
}
