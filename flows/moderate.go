package flows

import (
	"context"
	"fmt"
	"strings"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// Moderation: a member worried about someone, flags on requests, offers and members,
// the moderators' queue and their actions on a case, suspensions, and the audit trail.
// A case never carries the reporter's words in clear, and nothing is sent to the person
// a report is about until a moderator chooses to contact them, without saying who
// reported.

// Buttons and choices of moderation.
const (
	ActFlagPick   = "flag.pick"
	ActModAck     = "mod.ack"
	ActModContact = "mod.contact"
	ActModHide    = "mod.hide"
	ActModSuspend = "mod.suspend"
	ActModResolve = "mod.resolve"
	ActModCase    = "mod.case"
)

// Forms of moderation.
const (
	FormWorried = "worried"
	FormResolve = "mod.resolve"
)

// Case sources and the kinds of thing a flag is about.
const (
	SourceFlag    = "flag"
	SourceWorried = "worried"
	SubjectReq    = "request"
	SubjectOffer  = "offer"
	SubjectMember = "member"
)

// Reason keys: a case stores the key, never what the reporter typed.
var (
	flagReasons  = []string{"unsafe", "inappropriate", "spam", "other"}
	worryReasons = []string{"wellbeing", "safety", "health", "other"}
)

// maxResources is how many crisis resources a worried reporter is given.
const maxResources = 3

// moderationRoutes adds flags, the moderation queue, worries about someone and the audit.
func (s *Service) moderationRoutes(r *Routes) {
	commands := map[string]CommandFunc{
		"flag": s.Flag, "signaler": s.Flag,
		"worried": s.Worried, "inquiet": s.Worried, "inquiete": s.Worried, "inquiète": s.Worried,
		"queue": s.Queue, "file": s.Queue,
		"case": s.Case, "dossier": s.Case,
		"unsuspend": s.Unsuspend, "reactiver": s.Unsuspend, "réactiver": s.Unsuspend,
		"audit": s.AuditView, "journal": s.AuditView,
	}
	for name, fn := range commands {
		r.Commands[name] = fn
	}
	r.Buttons[ActFlagPick] = s.FlagPick
	r.Buttons[ActModAck] = s.Acknowledge
	r.Buttons[ActModContact] = s.Contact
	r.Buttons[ActModHide] = s.Hide
	r.Buttons[ActModSuspend] = s.SuspendMember
	r.Buttons[ActModResolve] = s.ResolveForm
	r.Buttons[ActModCase] = func(ctx context.Context, a Actor, payload, _ string) (Result, error) {
		return s.Case(ctx, a, []string{payload})
	}
	r.Forms[FormWorried] = s.WorriedSubmit
	r.Forms[FormResolve] = s.Resolve
}

// userRef turns what a person typed to name someone into a platform user id: a mention
// as platforms write it (<@U1>, <@!1>, <@U1|name>) or an id, with or without "@".
// mentioned is true for a platform mention, which names a real account.
func userRef(s string) (id string, mentioned bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "<@") && strings.HasSuffix(s, ">") {
		s = strings.TrimPrefix(strings.TrimSuffix(strings.TrimPrefix(s, "<@"), ">"), "!")
		s, _, _ = strings.Cut(s, "|")
		return s, s != ""
	}
	return strings.TrimPrefix(s, "@"), false
}

// reasonKey finds a reason among keys from what was typed, in English or French.
func reasonKey(keys []string, typed string) string {
	t := fold(strings.TrimSpace(typed))
	aliases := map[string]string{
		"dangereux": "unsafe", "danger": "unsafe", "inapproprie": "inappropriate", "pourriel": "spam",
		"autre": "other", "securite": "safety", "sante": "health", "bien-etre": "wellbeing", "moral": "wellbeing",
	}
	if k, ok := aliases[t]; ok {
		t = k
	}
	for _, k := range keys {
		if k == t {
			return k
		}
	}
	return ""
}

// reasonLabel is a reason key in the reader's language; an unknown key (a case from
// another source) shows as itself.
func reasonLabel(key string) ui.Text {
	switch key {
	case "unsafe":
		return ui.T("mod.reason.unsafe")
	case "inappropriate":
		return ui.T("mod.reason.inappropriate")
	case "spam":
		return ui.T("mod.reason.spam")
	case "other":
		return ui.T("mod.reason.other")
	case "wellbeing":
		return ui.T("mod.reason.wellbeing")
	case "safety":
		return ui.T("mod.reason.safety")
	case "health":
		return ui.T("mod.reason.health")
	case "":
		return ui.T("mod.reason.none")
	}
	return ui.T("value.text", "Text", key)
}

func reasonOptions(keys []string) []ui.Option {
	opts := make([]ui.Option, 0, len(keys))
	for _, k := range keys {
		opts = append(opts, ui.Option{Label: reasonLabel(k), Value: k})
	}
	return opts
}

// subjectKind reads the kind of thing flagged, in English or French.
func subjectKind(typed string) string {
	switch fold(strings.TrimSpace(typed)) {
	case "request", "demande":
		return SubjectReq
	case "offer", "offre":
		return SubjectOffer
	case "member", "membre", "user", "person", "personne":
		return SubjectMember
	}
	return ""
}

// Worried is "/tend worried <member> [reason]": a member telling the moderators, and only
// them, that they are worried about someone. Without both, a form asks.
func (s *Service) Worried(ctx context.Context, a Actor, args []string) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	who, reason := nthArg(args, 0), reasonKey(worryReasons, nthArg(args, 1))
	if who == "" || reason == "" {
		return Result{Form: worriedForm(who)}, nil
	}
	return s.worried(ctx, a, who, reason, "", false)
}

// WorriedSubmit is the worried form sent.
func (s *Service) WorriedSubmit(ctx context.Context, a Actor, _ string, in map[string]string) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	v := newValues(in)
	who := v.text("who", true, 100)
	reason := v.choice("reason", "", worryReasons...)
	if reason == "" {
		v.fail("reason", "error.required")
	}
	note := v.long("note", MaxNotes)
	if len(v.errs) > 0 {
		return Result{Errors: v.errs}, nil
	}
	return s.worried(ctx, a, who, reason, note, true)
}

func worriedForm(who string) *ui.Form {
	return &ui.Form{ID: FormWorried, Title: ui.T("mod.worried.form.title"), Fields: []ui.FormField{
		{Name: "who", Kind: ui.FieldText, Label: ui.T("mod.worried.field.who"), Help: ui.T("mod.worried.help.who"), Required: true, MaxLen: 100, Default: who},
		{Name: "reason", Kind: ui.FieldChoice, Label: ui.T("mod.worried.field.reason"), Options: reasonOptions(worryReasons), Required: true},
		{Name: "note", Kind: ui.FieldLongText, Label: ui.T("mod.worried.field.note"), Help: ui.T("mod.worried.help.note"), MaxLen: MaxNotes, Private: true},
	}}
}

// worried opens the case (or finds the reporter's open one about the same person) and
// answers the reporter with the community's crisis resources. The person named is told
// nothing: an automatic message would make reports a way to harass someone.
func (s *Service) worried(ctx context.Context, a Actor, who, reason, note string, fromForm bool) (Result, error) {
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		userID, mentioned := userRef(who)
		m, err := tx.MemberByIdentity(ctx, a.CommunityID, a.Platform, userID)
		switch {
		case isNotFound(err) && !mentioned:
			// Only a platform mention proves an account exists; a typed name must be a member.
			if fromForm {
				return Result{Errors: []ui.FieldError{{Field: "who", Msg: ui.T("mod.unknown_member", "Name", ui.UserText(userID))}}}, false, nil
			}
			return reply("mod.unknown_member", "Name", ui.UserText(userID)), false, nil
		case err != nil && !isNotFound(err):
			return Result{}, false, err
		}
		e := store.Escalation{CommunityID: a.CommunityID, Source: SourceWorried, Severity: worrySeverity(reason),
			ReporterID: nullInt(a.MemberID), Reason: reason}
		if m.ID != 0 {
			e.MemberID, e.SubjectKind, e.SubjectID = nullInt(m.ID), SubjectMember, nullInt(m.ID)
		} else {
			// Someone not (yet) a member: only their platform account is kept.
			e.Platform, e.PlatformUserID = a.Platform, userID
		}
		res, err := worriedAnswer(ctx, tx, a)
		if err != nil {
			return Result{}, false, err
		}
		if m.ID != 0 {
			prev, err := tx.OpenCaseBy(ctx, a.CommunityID, a.MemberID, SourceWorried, SubjectMember, m.ID)
			if err == nil {
				res.Outs[0].Card.Body = append([]ui.Text{ui.T("mod.worried.already", "ID", prev.ID)}, res.Outs[0].Card.Body[1:]...)
				if note == "" {
					return res, false, nil
				}
				// A new note joins the open case rather than being lost.
				if err := tx.AddCaseEvent(ctx, prev.ID, a.MemberID, "noted", note); err != nil {
					return Result{}, false, err
				}
				return res, true, s.audit(ctx, tx, a, "case.noted", modCaseRef(prev.ID), "")
			}
			if !isNotFound(err) {
				return Result{}, false, err
			}
		}
		id, err := s.openCase(ctx, tx, a, e, note)
		if err != nil {
			return Result{}, false, err
		}
		card, err := s.modCard(ctx, tx, id)
		if err != nil {
			return Result{}, false, err
		}
		res.add(ui.Out{To: ui.Moderators(a.CommunityID), Card: card, Key: modCaseKey(id)})
		return res, true, nil
	})
}

func worrySeverity(reason string) string {
	if reason == "safety" {
		return "urgent"
	}
	return "normal"
}

// worriedAnswer is the worried reporter's answer: a warm line and the first few crisis
// resources (the community's own, then its region's), privately.
func worriedAnswer(ctx context.Context, tx *store.Tx, a Actor) (Result, error) {
	rs, err := resources(ctx, tx, a.CommunityID)
	if err != nil {
		return Result{}, err
	}
	card := ui.Card{Title: ui.T("mod.worried.thanks.title"), Body: []ui.Text{ui.T("mod.worried.thanks"), ui.T("mod.worried.resources")}}
	for i, r := range rs {
		if i == maxResources {
			break
		}
		card.Body = append(card.Body, ui.T("mod.resource", "Label", r.label, "Contact", r.contact))
	}
	if len(rs) == 0 {
		card.Body = append(card.Body, ui.T("mod.resource.emergency"))
	}
	card.Body = append(card.Body, ui.T("mod.worried.self"))
	return Result{Outs: []ui.Out{{To: ui.Actor(), Card: card}}}, nil
}

// openCase records a case, its first timeline entry (with the reporter's note sealed)
// and an audit row that names the case only: who reported is for moderators, and a
// member's own audit rows never lead back to a reporter.
func (s *Service) openCase(ctx context.Context, tx *store.Tx, a Actor, e store.Escalation, note string) (int64, error) {
	id, err := tx.OpenEscalation(ctx, e, nil)
	if err != nil {
		return 0, err
	}
	if err := tx.AddCaseEvent(ctx, id, a.MemberID, "opened", note); err != nil {
		return 0, err
	}
	detail := fmt.Sprintf("source=%s reason=%s", e.Source, e.Reason)
	if e.SubjectKind == SubjectReq || e.SubjectKind == SubjectOffer {
		detail += fmt.Sprintf(" %s=%d", e.SubjectKind, e.SubjectID.Int64)
	}
	return id, s.audit(ctx, tx, a, "case.opened", modCaseRef(id), detail)
}

// flagSubject is what a flag is about, resolved in the actor's community.
type flagSubject struct {
	kind  string
	id    int64
	owner int64
}

// Flag is "/tend flag request|offer|member <id or user> [reason]".
func (s *Service) Flag(ctx context.Context, a Actor, args []string) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	kind, target := subjectKind(nthArg(args, 0)), nthArg(args, 1)
	if kind == "" || target == "" {
		return reply("mod.flag.usage"), nil
	}
	return s.flag(ctx, a, kind, target, reasonKey(flagReasons, nthArg(args, 2)), false)
}

// FlagPick is a reason picked for a flag; the value names the subject by row id.
func (s *Service) FlagPick(ctx context.Context, a Actor, payload, value string) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	if value == "" {
		value = payload
	}
	parts := strings.Split(value, ":")
	if len(parts) != 3 || subjectKind(parts[0]) == "" || reasonKey(flagReasons, parts[2]) == "" {
		return reply("error.gone"), nil
	}
	return s.flag(ctx, a, subjectKind(parts[0]), parts[1], reasonKey(flagReasons, parts[2]), true)
}

// flag opens a flag case unless the reporter has one open on the same subject. Without a
// reason it offers the choice of reasons and writes nothing.
func (s *Service) flag(ctx context.Context, a Actor, kind, target, reason string, byID bool) (Result, error) {
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		sub, why, err := resolveSubject(ctx, tx, a, kind, target, byID)
		if err != nil || why.ID != "" {
			return Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{Body: []ui.Text{why}}}}}, false, err
		}
		if reason == "" {
			opts := make([]ui.Option, 0, len(flagReasons))
			for _, k := range flagReasons {
				opts = append(opts, ui.Option{Label: reasonLabel(k), Value: sub.kind + ":" + ref(sub.id) + ":" + k})
			}
			return Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{Body: []ui.Text{ui.T("mod.flag.pick")},
				Choice: &ui.Choice{Action: ActFlagPick, Placeholder: ui.T("mod.flag.pick_placeholder"), Options: opts}}}}}, false, nil
		}
		if _, err := tx.OpenCaseBy(ctx, a.CommunityID, a.MemberID, SourceFlag, sub.kind, sub.id); err == nil {
			return reply("mod.flag.already"), false, nil
		} else if !isNotFound(err) {
			return Result{}, false, err
		}
		severity := "normal"
		if reason == "unsafe" {
			severity = "high"
		}
		id, err := s.openCase(ctx, tx, a, store.Escalation{CommunityID: a.CommunityID, Source: SourceFlag, Severity: severity,
			MemberID: nullInt(sub.owner), ReporterID: nullInt(a.MemberID), SubjectKind: sub.kind, SubjectID: nullInt(sub.id), Reason: reason}, "")
		if err != nil {
			return Result{}, false, err
		}
		card, err := s.modCard(ctx, tx, id)
		if err != nil {
			return Result{}, false, err
		}
		res := reply("mod.flag.thanks")
		res.add(ui.Out{To: ui.Moderators(a.CommunityID), Card: card, Key: modCaseKey(id)})
		return res, true, nil
	})
}

// resolveSubject finds a flagged request, offer or member in the actor's community. A
// refusal comes back as a message and no error.
func resolveSubject(ctx context.Context, tx *store.Tx, a Actor, kind, target string, byID bool) (flagSubject, ui.Text, error) {
	sub := flagSubject{kind: kind}
	switch kind {
	case SubjectReq, SubjectOffer:
		sub.id = ID(strings.TrimPrefix(target, "#"))
		var community int64
		var err error
		if kind == SubjectReq {
			var r store.Request
			r, err = tx.Request(ctx, sub.id)
			community, sub.owner = r.CommunityID, r.RequesterID
		} else {
			var o store.Offer
			o, err = tx.Offer(ctx, sub.id)
			community, sub.owner = o.CommunityID, o.VolunteerID
		}
		if isNotFound(err) || (err == nil && community != a.CommunityID) {
			return sub, ui.T("mod.flag.unknown", "ID", ui.UserText(target)), nil
		}
		if err != nil {
			return sub, ui.Text{}, err
		}
	case SubjectMember:
		var m store.Member
		var err error
		if byID {
			m, err = tx.Member(ctx, ID(target))
			if err == nil && m.CommunityID != a.CommunityID {
				err = store.ErrNotFound
			}
		} else {
			userID, _ := userRef(target)
			m, err = tx.MemberByIdentity(ctx, a.CommunityID, a.Platform, userID)
			target = userID
		}
		if isNotFound(err) {
			return sub, ui.T("mod.unknown_member", "Name", ui.UserText(target)), nil
		}
		if err != nil {
			return sub, ui.Text{}, err
		}
		sub.id, sub.owner = m.ID, m.ID
	}
	if sub.owner == a.MemberID {
		return sub, ui.T("mod.flag.own"), nil
	}
	return sub, ui.Text{}, nil
}

func nthArg(args []string, i int) string {
	if i < len(args) {
		return strings.TrimSpace(args[i])
	}
	return ""
}

// modCaseKey is the key of a case's card in the moderators' channel: the same key the
// crisis cases use, so a case has one card there, edited in place.
func modCaseKey(id int64) string { return "case:" + ref(id) }

// modCaseRef names a case as an audit row's subject.
func modCaseRef(id int64) string { return "case:" + ref(id) }

// hiddenNote tells the owner of a hidden request or offer, in their own list, that
// moderators took it off the board.
func hiddenNote(hidden bool) []ui.Text {
	if !hidden {
		return nil
	}
	return []ui.Text{ui.T("mod.mine.hidden")}
}

// hiddenOnBoard is the board card of a request or offer a moderator hid: it replaces the
// card in place and shows nothing of what was posted.
func hiddenOnBoard(boards ui.Target, key string) ui.Out {
	return ui.Out{To: boards, Card: ui.Card{Body: []ui.Text{ui.T("mod.board.hidden")}}, Key: key}
}
