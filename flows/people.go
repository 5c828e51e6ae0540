package flows

import (
	"context"
	"strings"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// Asking for someone else: a member (a caregiver, a relative, a moderator) asks on
// behalf of a person who is not on the platform. The person is a member row with no
// platform identity (a beneficiary) whose name is sealed; the asker is their contact,
// states that they agreed (the consents' evidence), and receives every message meant
// for them. The person's request follows the same encryption, reveal, retention and
// erase rules as anyone's, with the disclosures naming the person as their subject.

// Forms, buttons and kinds of sealed value of this area.
const (
	FormAskFor = "ask_for"

	ActForgetPerson  = "person.forget"
	ActForgetConfirm = "person.forget.confirm"
	ActForgetKeep    = "person.forget.keep"

	// SealedPerson is a beneficiary's name; SealedRelationship how their contact is
	// related to them; SealedLinkCode a one-time link code (flows/link.go).
	SealedPerson       = "person"
	SealedRelationship = "person.relationship"
	SealedLinkCode     = "link.code"
)

// Limits on what is typed about the person.
const (
	MaxPersonName   = 80
	MaxRelationship = 60
)

// proxyRoutes adds asking for someone else and forgetting such a person.
func (s *Service) proxyRoutes(r *Routes) {
	for _, name := range []string{"ask-for", "askfor", "demander-pour", "demanderpour"} {
		r.Commands[name] = func(ctx context.Context, a Actor, _ []string) (Result, error) { return s.AskForForm(ctx, a) }
	}
	for _, name := range []string{"forget-person", "oublier-personne"} {
		r.Commands[name] = s.ForgetPerson
	}
	r.Forms[FormAskFor] = func(ctx context.Context, a Actor, _ string, in map[string]string) (Result, error) {
		return s.AskFor(ctx, a, in)
	}
	r.Buttons[ActForgetPerson] = func(ctx context.Context, a Actor, payload, _ string) (Result, error) {
		return s.ForgetPerson(ctx, a, []string{payload})
	}
	r.Buttons[ActForgetConfirm] = s.ForgetConfirm
	r.Buttons[ActForgetKeep] = func(context.Context, Actor, string, string) (Result, error) {
		return reply("person.forget.kept"), nil
	}
}

// nameOf is how a member is named in a message: their name on the platform, or, for a
// person asked for by someone else, their sealed name, opened only when the message is
// rendered (and "a neighbour" once it is erased).
func nameOf(m store.Member) any {
	if m.IsBeneficiary() {
		return ui.Sealed{Kind: SealedPerson, Ref: m.ID}
	}
	if m.ErasedAt.Valid {
		// A member who erased their data (flows/mydata.go) names no one.
		return ui.T("request.neighbour")
	}
	return ui.UserText(m.DisplayName)
}

// speaker is the member who receives what is meant for member: the member, or the
// contact who speaks for a person without a platform account. Every message a flow
// sends to a requester goes through it, so nothing is addressed to a member with no
// account to receive it.
func speaker(ctx context.Context, tx *store.Tx, member int64) (int64, error) {
	return tx.Speaker(ctx, member)
}

// toRequester addresses a message to whoever speaks for a request's requester.
func toRequester(ctx context.Context, tx *store.Tx, r store.Request) (ui.Target, error) {
	id, err := speaker(ctx, tx, r.RequesterID)
	if err != nil {
		return ui.Target{}, err
	}
	return aboutRequest(ctx, tx, id, r)
}

// speaksFor reports whether the actor may act as member: they are the member, or they
// asked on the member's behalf.
func speaksFor(ctx context.Context, tx *store.Tx, actor, member int64) (bool, error) {
	if actor == 0 {
		return false, nil
	}
	if actor == member {
		return true, nil
	}
	id, err := speaker(ctx, tx, member)
	return id == actor, err
}

// statedBy is the evidence of a consent the actor gave on behalf of a person they speak
// for.
func statedBy(a Actor) store.Evidence {
	return store.Evidence{NoticeVersion: NoticeVersion, Surface: a.Surface, EventID: a.EventID, Action: "stated_by_contact:" + ref(a.MemberID)}
}

// consentEvidence is the evidence of a consent given by the actor for member: their own
// action, or their statement on the member's behalf.
func consentEvidence(a Actor, member int64, action string) store.Evidence {
	if member != a.MemberID {
		return statedBy(a)
	}
	return a.evidence(action)
}

// forNote is the line that reminds the one who speaks for a person whose request a
// message is about; nothing for a member's own request.
func forNote(requester store.Member) []ui.Text {
	if !requester.IsBeneficiary() {
		return nil
	}
	return []ui.Text{ui.T("ask_for.about", "Name", nameOf(requester))}
}

// requesterNote is where a request's requester is reached (toRequester) and the note
// naming the person asked for (forNote), loaded together.
func requesterNote(ctx context.Context, tx *store.Tx, r store.Request) (ui.Target, []ui.Text, error) {
	to, err := toRequester(ctx, tx, r)
	if err != nil {
		return ui.Target{}, nil, err
	}
	m, err := tx.Member(ctx, r.RequesterID)
	if err != nil {
		return ui.Target{}, nil, err
	}
	return to, forNote(m), nil
}

// Unseal opens a sealed argument for its reader, when the message is rendered: a
// person's name (anywhere a flow put it; "a neighbour" once erased), how their contact
// is related to them, or a link code (only in a direct message to the member it was
// issued to, while it waits to be entered).
func (s *Service) Unseal(ctx context.Context, viewer int64, direct bool, sl ui.Sealed) (any, error) {
	var out any = ui.T("sealed.withheld")
	err := s.read(ctx, func(tx *store.Tx) error {
		switch sl.Kind {
		case SealedPerson, SealedRelationship:
			m, err := tx.Member(ctx, sl.Ref)
			if isNotFound(err) {
				out = ui.T("request.neighbour")
				return nil
			}
			if err != nil {
				return err
			}
			p, ok, err := tx.PersonOf(m)
			switch {
			case err != nil:
				return err
			case !ok && sl.Kind == SealedPerson:
				out = ui.T("request.neighbour")
			case !ok:
				out = ui.T("sealed.withheld")
			case sl.Kind == SealedPerson:
				out = ui.UserText(p.Name)
			case p.Relationship == "":
				out = ui.T("ask_for.relationship_none")
			default:
				out = ui.UserText(p.Relationship)
			}
		case SealedLinkCode:
			code, err := linkCodeFor(ctx, tx, sl.Ref, viewer, direct)
			if err != nil || code == "" {
				out = ui.T("link.code_gone")
				return err
			}
			out = ui.UserText(code)
		default:
			if strings.HasPrefix(sl.Kind, SealedIncident) {
				var err error
				out, err = unsealIncident(ctx, tx, viewer, sl)
				return err
			}
		}
		return nil
	})
	return out, err
}

// AskForForm is the ask form with the person's name, how the asker is related to
// them, and the statement that they agreed; the privacy choices are the person's.
func (s *Service) AskForForm(ctx context.Context, a Actor) (Result, error) {
	res, err := s.AskForm(ctx, a)
	if err != nil || res.Form == nil {
		return res, err
	}
	f := res.Form
	f.ID, f.Title = FormAskFor, ui.T("ask_for.form.title")
	person := []ui.FormField{
		{Name: "person", Kind: ui.FieldText, Label: ui.T("ask_for.field.person"), Help: ui.T("ask_for.help.person"), Required: true, MaxLen: MaxPersonName, Private: true},
		{Name: "relationship", Kind: ui.FieldText, Label: ui.T("ask_for.field.relationship"), Help: ui.T("ask_for.help.relationship"), MaxLen: MaxRelationship, Private: true},
		{Name: "agreed", Kind: ui.FieldChoice, Label: ui.T("ask_for.field.agreed"), Help: ui.T("ask_for.help.agreed"), Required: true,
			Options: []ui.Option{{Label: ui.T("ask_for.option.agreed"), Value: Yes}, {Label: ui.T("ask_for.option.not_agreed"), Value: No}}},
	}
	relabel := map[string]ui.Text{
		"category": ui.T("ask_for.field.category"), "address": ui.T("ask_for.field.address"), "phone": ui.T("ask_for.field.phone"),
		"notes": ui.T("ask_for.field.notes"), "show_name": ui.T("ask_for.field.show_name"), "may_share": ui.T("ask_for.field.may_share"),
		"follow_up": ui.T("ask_for.field.follow_up"),
	}
	for i := range f.Fields {
		if l, ok := relabel[f.Fields[i].Name]; ok {
			f.Fields[i].Label = l
		}
		if f.Fields[i].Name == "show_name" {
			f.Fields[i].Options = []ui.Option{{Label: ui.T("ask_for.option.anonymous"), Value: Anonymous}, {Label: ui.T("ask_for.option.show_name"), Value: ShowName}}
		}
	}
	f.Fields = append(person, f.Fields...)
	return res, nil
}

// AskFor records a request for a person without a platform account. Unless the asker
// states that the person agreed, nothing is kept and the asker is told why.
func (s *Service) AskFor(ctx context.Context, a Actor, in map[string]string) (Result, error) {
	return s.memberRun(ctx, a, func(tx *store.Tx) (Result, error) { return s.ask(ctx, tx, a, in, FormAskFor) })
}

// askForPerson reads the person's part of the ask-for form; agreed is false when the
// asker said the person did not agree (a missing answer is a field error instead).
func askForPerson(v *values) (store.Person, bool) {
	if v.choice("agreed", "", Yes, No) == No {
		return store.Person{}, false
	}
	if strings.TrimSpace(v.m["agreed"]) == "" {
		v.fail("agreed", "error.required")
	}
	return store.Person{Name: v.text("person", true, MaxPersonName), Relationship: v.text("relationship", false, MaxRelationship)}, true
}

// beneficiary finds the person the actor already asks for under this name, or records
// a new one; their store_profile consent is the actor's statement.
func (s *Service) beneficiary(ctx context.Context, tx *store.Tx, a Actor, p store.Person) (store.Member, error) {
	known, err := tx.Beneficiaries(ctx, a.MemberID)
	if err != nil {
		return store.Member{}, err
	}
	for _, m := range known {
		q, ok, err := tx.PersonOf(m)
		if err != nil {
			return store.Member{}, err
		}
		if ok && strings.EqualFold(strings.TrimSpace(q.Name), p.Name) {
			return m, nil
		}
	}
	m, err := tx.CreateBeneficiary(ctx, a.CommunityID, a.MemberID, p, a.Locale, statedBy(a))
	if err != nil {
		return store.Member{}, err
	}
	return m, s.audit(ctx, tx, a, "person.recorded", "member:"+ref(m.ID), "contact=member:"+ref(a.MemberID))
}

// mineForOthers is the part of Mine about the people the actor asks for: their live
// requests, labelled, and each person with a button to forget them.
func mineForOthers(ctx context.Context, tx *store.Tx, a Actor, zone string) ([]ui.Out, error) {
	reqs, err := tx.RequestsFor(ctx, a.MemberID)
	if err != nil {
		return nil, err
	}
	people, err := tx.Beneficiaries(ctx, a.MemberID)
	if err != nil {
		return nil, err
	}
	var outs []ui.Out
	for _, r := range reqs {
		m, err := tx.Member(ctx, r.RequesterID)
		if err != nil {
			return nil, err
		}
		outs = append(outs, ui.Out{To: ui.Actor(), Card: ui.Card{
			Body:    append([]ui.Text{ui.T("ask_for.mine.request", "Name", nameOf(m), "Status", ui.T("status."+r.Status)), requestTitle(r)}, hiddenNote(r.Hidden)...),
			Fields:  []ui.Field{{Label: ui.T("field.when"), Value: ui.T("value.window", "Window", window(r.StartsAt, r.EndsAt, zone))}},
			Buttons: []ui.Button{editButton(r.ID), {Label: ui.T("button.cancel_request"), Action: ActCancel, Payload: ref(r.ID), Style: ui.StyleDanger}},
		}})
	}
	for _, m := range people {
		outs = append(outs, ui.Out{To: ui.Actor(), Card: ui.Card{
			Body:    []ui.Text{ui.T("ask_for.mine.person", "Name", nameOf(m), "Relationship", ui.Sealed{Kind: SealedRelationship, Ref: m.ID}, "Ref", ref(m.ID))},
			Buttons: []ui.Button{{Label: ui.T("button.forget_person", "Name", nameOf(m)), Action: ActForgetPerson, Payload: ref(m.ID), Style: ui.StyleDanger}},
		}})
	}
	return outs, nil
}

// ForgetPerson is "/tend forget-person <person number | #request>" (or the button in
// Mine): the person's contact or a moderator asks to erase a person asked for by
// someone else. Nothing is erased until they confirm.
func (s *Service) ForgetPerson(ctx context.Context, a Actor, args []string) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	target := nthArg(args, 0)
	if target == "" {
		return reply("person.forget.usage"), nil
	}
	var res Result
	err := s.read(ctx, func(tx *store.Tx) error {
		m, why, err := forgettable(ctx, tx, a, target)
		if err != nil || why != "" {
			res = reply(why, "Ref", ui.UserText(target))
			return err
		}
		open, err := tx.RequestsBy(ctx, m.ID)
		if err != nil {
			return err
		}
		res.add(ui.Out{To: ui.Actor(), Card: ui.Card{
			Title: ui.T("person.forget.title", "Name", nameOf(m)),
			Body:  []ui.Text{countText("person.forget.body", len(open)), ui.T("person.forget.kept_counts")},
			Buttons: []ui.Button{
				{Label: ui.T("button.forget_confirm", "Name", nameOf(m)), Action: ActForgetConfirm, Payload: ref(m.ID), Style: ui.StyleDanger},
				{Label: ui.T("button.forget_keep"), Action: ActForgetKeep, Payload: ref(m.ID)},
			},
		}})
		return nil
	})
	return res, err
}

// forgettable finds the person a reference names: a person number, or "#n" for the
// person a request was made for. It returns the refusal message id when the actor may
// not forget them (only their contact and moderators may).
func forgettable(ctx context.Context, tx *store.Tx, a Actor, target string) (store.Member, string, error) {
	id := ID(target)
	if strings.HasPrefix(target, "#") {
		r, err := tx.Request(ctx, ID(strings.TrimPrefix(target, "#")))
		if isNotFound(err) || (err == nil && r.CommunityID != a.CommunityID) {
			return store.Member{}, "person.forget.unknown", nil
		}
		if err != nil {
			return store.Member{}, "", err
		}
		id = r.RequesterID
	}
	m, err := tx.Member(ctx, id)
	if isNotFound(err) || (err == nil && (m.CommunityID != a.CommunityID || !m.IsBeneficiary() || m.ErasedAt.Valid)) {
		return m, "person.forget.unknown", nil
	}
	if err != nil {
		return m, "", err
	}
	if m.ContactMemberID.Int64 != a.MemberID && !a.Moderator {
		return m, "person.forget.not_yours", nil
	}
	return m, "", nil
}

// ForgetConfirm erases a person asked for by someone else: their open requests are
// called off (helpers are told, board cards updated), then their name, the private
// parts of their requests and their consents go (store.EraseMemberData). The rows that
// figures are made of stay, and an audit row says who did it.
func (s *Service) ForgetConfirm(ctx context.Context, a Actor, payload, _ string) (Result, error) {
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		m, why, err := forgettable(ctx, tx, a, payload)
		if err != nil || why != "" {
			if why == "person.forget.unknown" {
				why = "person.forget.already"
			}
			return reply(why, "Ref", ui.UserText(payload)), false, err
		}
		com, _, err := community(ctx, tx, a.CommunityID)
		if err != nil {
			return Result{}, false, err
		}
		open, err := tx.RequestsBy(ctx, m.ID)
		if err != nil {
			return Result{}, false, err
		}
		var res Result
		for _, r := range open {
			outs, err := s.callOff(ctx, tx, a, r, com.Timezone)
			if err != nil {
				return Result{}, false, err
			}
			res.add(outs...)
		}
		erased, err := tx.EraseMemberData(ctx, m.ID)
		if err != nil {
			return Result{}, false, err
		}
		by := "contact"
		if m.ContactMemberID.Int64 != a.MemberID {
			by = "moderator"
		}
		if err := s.audit(ctx, tx, a, "person.forgotten", "member:"+ref(m.ID),
			"by="+by+" requests_closed="+ref(int64(len(open)))+" consents_withdrawn="+ref(erased.Consents)); err != nil {
			return Result{}, false, err
		}
		res.Outs = append([]ui.Out{{To: ui.Actor(), Card: ui.Card{Body: []ui.Text{countText("person.forget.done", len(open))}}}}, res.Outs...)
		if by == "moderator" {
			res.add(ui.Out{To: ui.Member(m.ContactMemberID.Int64), Card: ui.Card{Body: []ui.Text{countText("person.forget.told_contact", len(open))}}})
		}
		return res, true, nil
	})
}

// callOff cancels an open or matched request whose person is being forgotten: helpers
// who offered or were accepted are told and thanked, and the board card is updated.
func (s *Service) callOff(ctx context.Context, tx *store.Tx, a Actor, r store.Request, zone string) ([]ui.Out, error) {
	claims, err := tx.LiveClaimsOnRequest(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	moved, err := tx.SetRequestStatus(ctx, r.ID, "cancelled", "open", "matched")
	if err != nil || !moved {
		return nil, err
	}
	r.Status = "cancelled"
	var outs []ui.Out
	for _, c := range claims {
		if c.State == store.ClaimDone {
			continue
		}
		if _, err := tx.MoveClaim(ctx, c.ID, store.ClaimCancelled, store.ClaimOffered, store.ClaimAccepted); err != nil {
			return nil, err
		}
		outs = append(outs, ui.Out{To: ui.Member(c.MemberID), Card: ui.Card{Body: []ui.Text{ui.T("cancel.helper", "Summary", ui.UserText(r.Summary))}}})
	}
	if err := s.audit(ctx, tx, a, "request.cancelled", "request:"+ref(r.ID), "reason=person_forgotten"); err != nil {
		return nil, err
	}
	board, err := boardRequest(ctx, tx, r, zone)
	if err != nil {
		return nil, err
	}
	return append(outs, board), nil
}

// forSomeoneElse words the consent gate for the one who speaks for the requester: whom
// the request is for, and "their details" rather than "my details".
func forSomeoneElse(card *ui.Card, requester, helper store.Member) {
	card.Body = append(forNote(requester), card.Body...)
	name := ui.UserText(helper.DisplayName)
	for i, b := range card.Buttons {
		switch b.Action {
		case ActAcceptShare:
			card.Buttons[i].Label = ui.T("button.accept_share_for", "Name", name)
		case ActAcceptOnly:
			if len(card.Buttons) > 2 {
				card.Buttons[i].Label = ui.T("button.accept_only_for", "Name", name)
			}
		}
	}
}

// countText is a message about a number of open requests, with its own wording for none.
func countText(id string, n int) ui.Text {
	switch id {
	case "person.forget.body":
		if n == 0 {
			return ui.T("person.forget.body_none")
		}
		return ui.T("person.forget.body", "Count", n)
	case "person.forget.done":
		if n == 0 {
			return ui.T("person.forget.done_none")
		}
		return ui.T("person.forget.done", "Count", n)
	}
	if n == 0 {
		return ui.T("person.forget.told_contact_none")
	}
	return ui.T("person.forget.told_contact", "Count", n)
}
