package flows

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// Linked accounts: one person on two platforms of the same community (a Discord guild
// and a Slack workspace bound to one community) links them into one member. The proof
// is a one-time code delivered by direct message on the first account, typed on the
// second and confirmed there. Unlinking is one press. Moderator and vetted roles that
// come from a platform stay with that platform's account.

// Buttons of linked accounts.
const (
	ActLinkConfirm = "link.confirm"
	ActLinkCancel  = "link.cancel"
	ActLinkStop    = "link.stop"
	ActUnlink      = "link.unlink"
)

// Link code rules: how long a code lives, how long the account that typed it has to
// confirm, and how many wrong codes a waiting code bears before it is burnt.
const (
	LinkCodeTTL      = 10 * time.Minute
	LinkCodeAttempts = 5
	linkCodeLen      = 8
)

// linkAlphabet is Crockford's base32: no I, L, O or U, so a code read aloud or copied by
// hand survives; normalizeLinkCode maps the look-alikes back.
const linkAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// linkRoutes adds linking and unlinking accounts.
func (s *Service) linkRoutes(r *Routes) {
	for _, name := range []string{"link", "lier"} {
		r.Commands[name] = s.Link
	}
	for _, name := range []string{"unlink", "delier", "délier"} {
		r.Commands[name] = s.Unlink
	}
	r.Buttons[ActLinkConfirm] = s.LinkConfirm
	r.Buttons[ActLinkCancel] = s.LinkCancel
	r.Buttons[ActLinkStop] = s.LinkStop
	r.Buttons[ActUnlink] = s.UnlinkPress
}

// platformName is a platform as people call it.
func platformName(p string) ui.Text { return ui.Text{ID: "link.platform." + p, Fallback: p} }

// newLinkCode draws a code from crypto/rand: 8 symbols of 32, 40 bits.
func newLinkCode() (string, error) {
	b := make([]byte, linkCodeLen)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("flows: link code: %w", err)
	}
	for i := range b {
		b[i] = linkAlphabet[int(b[i])%len(linkAlphabet)]
	}
	return string(b[:4]) + "-" + string(b[4:]), nil
}

// normalizeLinkCode is a typed code in its stored form: capitals, no spaces or dashes,
// look-alike letters read as the digits they resemble.
func normalizeLinkCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch r {
		case ' ', '-', '_', '.':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		case 'U':
			r = 'V'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// linkCodeFor opens a code for its message: only in a direct message to the member it
// was issued to, while it waits to be entered ("" otherwise).
func linkCodeFor(ctx context.Context, tx *store.Tx, id, viewer int64, direct bool) (string, error) {
	c, err := tx.LinkCodeByID(ctx, id)
	if isNotFound(err) {
		return "", nil
	}
	if err != nil || !direct || viewer == 0 || viewer != c.MemberID || c.State != store.LinkPending || c.ExpiresAt <= tx.Now() {
		return "", err
	}
	code, err := tx.OpenLinkCode(c)
	if len(code) == linkCodeLen {
		// Shown in two halves, easier to copy by hand; the dash is ignored when typed.
		code = code[:4] + "-" + code[4:]
	}
	return code, err
}

// Link is "/tend link" (a code for this account, by direct message) and "/tend link
// <code>" (the code typed on the other account).
func (s *Service) Link(ctx context.Context, a Actor, args []string) (Result, error) {
	if typed := strings.Join(args, ""); typed != "" {
		return s.linkEnter(ctx, a, typed)
	}
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		code, err := newLinkCode()
		if err != nil {
			return Result{}, false, err
		}
		id, err := tx.IssueLinkCode(ctx, store.LinkCode{CommunityID: a.CommunityID, MemberID: a.MemberID, Platform: a.Platform,
			PlatformUserID: a.UserID, ExpiresAt: tx.Now() + int64(LinkCodeTTL/time.Second)}, normalizeLinkCode(code))
		if err != nil {
			return Result{}, false, err
		}
		if err := s.audit(ctx, tx, a, "link.code_issued", "member:"+ref(a.MemberID), "platform="+a.Platform); err != nil {
			return Result{}, false, err
		}
		var res Result
		if !a.InDM {
			res = reply("link.code_sent")
		}
		// The code itself stays sealed until this direct message is rendered for its reader.
		res.add(ui.Out{To: ui.MemberOn(a.MemberID, a.Platform, a.UserID), Card: ui.Card{
			Title: ui.T("link.code.title"),
			Body: []ui.Text{
				ui.T("link.code.body", "Code", ui.Sealed{Kind: SealedLinkCode, Ref: id}),
				ui.T("link.code.how", "Minutes", int(LinkCodeTTL/time.Minute)),
				ui.T("link.roles"),
				ui.T("link.code.not_me"),
			},
		}})
		return res, true, nil
	})
}

// linkEnter is a code typed on the other account. A right code binds itself to this
// account (it cannot be used again) and asks this account to confirm; the first account
// hears of it, with a way to stop. A wrong, used or expired code gets one answer that
// does not say which, and counts against the codes waiting in the community.
func (s *Service) linkEnter(ctx context.Context, a Actor, typed string) (Result, error) {
	code := normalizeLinkCode(typed)
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		wrong := func(community int64) (Result, bool, error) {
			if err := tx.FailLinkAttempt(ctx, community, LinkCodeAttempts); err != nil {
				return Result{}, false, err
			}
			return reply("link.code_wrong"), true, nil
		}
		c, err := tx.LinkCodeByHash(ctx, store.HashLinkCode(code))
		if isNotFound(err) || len(code) != linkCodeLen {
			return wrong(a.CommunityID)
		}
		if err != nil {
			return Result{}, false, err
		}
		switch {
		case c.CommunityID != a.CommunityID:
			if err := tx.FailLinkAttempt(ctx, c.CommunityID, LinkCodeAttempts); err != nil {
				return Result{}, false, err
			}
			return reply("link.other_community"), true, nil
		case c.State != store.LinkPending || c.ExpiresAt <= tx.Now():
			return wrong(a.CommunityID)
		case c.Platform == a.Platform && c.PlatformUserID == a.UserID:
			return reply("link.same_account"), false, nil
		case a.MemberID == c.MemberID:
			return reply("link.already"), false, nil
		}
		if ok, err := tx.EnterLinkCode(ctx, c.ID, a.Platform, a.UserID); err != nil || !ok {
			if err != nil {
				return Result{}, false, err
			}
			return wrong(a.CommunityID)
		}
		if err := s.audit(ctx, tx, a, "link.code_entered", "member:"+ref(c.MemberID), "platform="+a.Platform); err != nil {
			return Result{}, false, err
		}
		owner, err := tx.Member(ctx, c.MemberID)
		if err != nil {
			return Result{}, false, err
		}
		body := []ui.Text{ui.T("link.confirm.body", "Name", nameOf(owner), "Platform", platformName(c.Platform))}
		if a.IsMember() {
			body = append(body, ui.T("link.confirm.merge", "Name", nameOf(owner)))
		}
		body = append(body, ui.T("link.roles"), ui.T("link.confirm.deadline", "Minutes", int(LinkCodeTTL/time.Minute)))
		res := Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{
			Title: ui.T("link.confirm.title", "Name", nameOf(owner)),
			Body:  body,
			Buttons: []ui.Button{
				{Label: ui.T("button.link_confirm"), Action: ActLinkConfirm, Payload: ref(c.ID), Style: ui.StylePrimary},
				{Label: ui.T("button.link_cancel"), Action: ActLinkCancel, Payload: ref(c.ID)},
			},
		}}}}
		res.add(ui.Out{To: ui.MemberOn(c.MemberID, c.Platform, c.PlatformUserID), Card: ui.Card{
			Title:   ui.T("link.entered.title", "Platform", platformName(a.Platform)),
			Body:    []ui.Text{ui.T("link.entered.body", "Platform", platformName(a.Platform))},
			Buttons: []ui.Button{{Label: ui.T("button.link_stop"), Action: ActLinkStop, Payload: ref(c.ID), Style: ui.StyleDanger}},
		}})
		return res, true, nil
	})
}

// LinkConfirm is the second account confirming: its identity joins the member the
// code was issued to, merging the member it belonged to (if any) in one transaction;
// both accounts are told.
func (s *Service) LinkConfirm(ctx context.Context, a Actor, payload, _ string) (Result, error) {
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		c, why, err := enteredCode(ctx, tx, a, payload)
		if err != nil || why != "" {
			return reply(why), false, err
		}
		if a.MemberID == c.MemberID {
			return reply("link.already"), false, nil
		}
		if c.EnteredAt.Int64+int64(LinkCodeTTL/time.Second) <= tx.Now() {
			if _, err := tx.EndLinkCode(ctx, c.ID, store.LinkCancelled, store.LinkEntered); err != nil {
				return Result{}, false, err
			}
			return reply("link.code_wrong"), true, nil
		}
		linked, err := tx.LinkAccount(ctx, c.CommunityID, c.MemberID, a.Platform, a.UserID)
		if err != nil {
			return Result{}, false, err
		}
		if _, err := tx.EndLinkCode(ctx, c.ID, store.LinkLinked, store.LinkEntered); err != nil {
			return Result{}, false, err
		}
		detail := "platform=" + a.Platform + " merged=none"
		if linked.Merged != 0 {
			detail = "platform=" + a.Platform + " merged=member:" + ref(linked.Merged) + " profile_kept=" + linked.ProfileKept
		}
		a.MemberID = c.MemberID
		if err := s.audit(ctx, tx, a, "member.linked", "member:"+ref(c.MemberID), detail); err != nil {
			return Result{}, false, err
		}
		owner, err := tx.Member(ctx, c.MemberID)
		if err != nil {
			return Result{}, false, err
		}
		here := []ui.Text{ui.T("link.done", "Name", nameOf(owner), "Platform", platformName(c.Platform))}
		there := []ui.Text{ui.T("link.done_other", "Platform", platformName(a.Platform))}
		switch {
		case linked.ProfileKept == "from":
			here = append(here, ui.T("link.profile_kept_here"))
			there = append(there, ui.T("link.profile_kept_other", "Platform", platformName(a.Platform)))
		case linked.ProfileKept == "into":
			here = append(here, ui.T("link.profile_kept_other", "Platform", platformName(c.Platform)))
			there = append(there, ui.T("link.profile_kept_here"))
		}
		here, there = append(here, ui.T("link.roles"), ui.T("link.how_unlink")), append(there, ui.T("link.how_unlink"))
		res := Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{Title: ui.T("link.done.title"), Body: here}}}}
		res.add(ui.Out{To: ui.MemberOn(c.MemberID, c.Platform, c.PlatformUserID), Card: ui.Card{Title: ui.T("link.done.title"), Body: there}})
		return res, true, nil
	})
}

// enteredCode loads the code a confirm or cancel button names; it must have been
// entered on this very account and still wait. why is the refusal message id.
func enteredCode(ctx context.Context, tx *store.Tx, a Actor, payload string) (store.LinkCode, string, error) {
	c, err := tx.LinkCodeByID(ctx, ID(payload))
	if isNotFound(err) {
		return c, "error.gone", nil
	}
	if err != nil {
		return c, "", err
	}
	switch {
	case c.TargetPlatform != a.Platform || c.TargetUserID != a.UserID || c.CommunityID != a.CommunityID:
		return c, "link.not_yours", nil
	case c.State == store.LinkLinked:
		return c, "link.already", nil
	case c.State != store.LinkEntered:
		return c, "link.stopped", nil
	}
	return c, "", nil
}

// LinkCancel is the second account saying no: nothing is linked; the first hears it.
func (s *Service) LinkCancel(ctx context.Context, a Actor, payload, _ string) (Result, error) {
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		c, why, err := enteredCode(ctx, tx, a, payload)
		if err != nil || why != "" {
			return reply(why), false, err
		}
		if _, err := tx.EndLinkCode(ctx, c.ID, store.LinkCancelled, store.LinkEntered); err != nil {
			return Result{}, false, err
		}
		if err := s.audit(ctx, tx, a, "link.cancelled", "member:"+ref(c.MemberID), "platform="+a.Platform); err != nil {
			return Result{}, false, err
		}
		res := reply("link.cancelled")
		res.add(ui.Out{To: ui.MemberOn(c.MemberID, c.Platform, c.PlatformUserID), Card: ui.Card{Body: []ui.Text{
			ui.T("link.cancelled_other", "Platform", platformName(a.Platform))}}})
		return res, true, nil
	})
}

// LinkStop is the first account calling a code off, entered or not.
func (s *Service) LinkStop(ctx context.Context, a Actor, payload, _ string) (Result, error) {
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		c, err := tx.LinkCodeByID(ctx, ID(payload))
		if isNotFound(err) || (err == nil && c.MemberID != a.MemberID) {
			return reply("link.not_yours"), false, nil
		}
		if err != nil {
			return Result{}, false, err
		}
		moved, err := tx.EndLinkCode(ctx, c.ID, store.LinkCancelled, store.LinkPending, store.LinkEntered)
		if err != nil {
			return Result{}, false, err
		}
		if !moved {
			if c.State == store.LinkLinked {
				return reply("link.stop_too_late"), false, nil
			}
			return reply("link.stopped"), false, nil
		}
		if err := s.audit(ctx, tx, a, "link.stopped", "member:"+ref(a.MemberID), "platform="+c.TargetPlatform); err != nil {
			return Result{}, false, err
		}
		return reply("link.stop_done"), true, nil
	})
}

// Unlink is "/tend unlink": the member's accounts, each with a button that detaches it.
func (s *Service) Unlink(ctx context.Context, a Actor, _ []string) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	var res Result
	err := s.read(ctx, func(tx *store.Tx) error {
		ids, err := tx.IdentitiesOf(ctx, a.MemberID)
		if err != nil {
			return err
		}
		if len(ids) < 2 {
			res = reply("unlink.none")
			return nil
		}
		card := ui.Card{Title: ui.T("unlink.title"), Body: []ui.Text{ui.T("unlink.body"), ui.T("link.roles")}}
		for _, id := range ids {
			label := ui.T("button.unlink", "Platform", platformName(id.Platform), "User", ui.UserText(id.PlatformUserID))
			if id.Platform == a.Platform && id.PlatformUserID == a.UserID {
				label = ui.T("button.unlink_this", "Platform", platformName(id.Platform), "User", ui.UserText(id.PlatformUserID))
			}
			card.Buttons = append(card.Buttons, ui.Button{Label: label, Action: ActUnlink, Payload: id.Platform + ":" + id.PlatformUserID})
		}
		res.add(ui.Out{To: ui.Actor(), Card: card})
		return nil
	})
	return res, err
}

// UnlinkPress detaches one account: it becomes a newcomer who must accept the privacy
// notice again, and everything done so far stays with the member's other accounts.
func (s *Service) UnlinkPress(ctx context.Context, a Actor, payload, _ string) (Result, error) {
	platform, user, _ := strings.Cut(payload, ":")
	return s.memberStep(ctx, a, func(tx *store.Tx) (Result, bool, error) {
		ids, err := tx.IdentitiesOf(ctx, a.MemberID)
		if err != nil {
			return Result{}, false, err
		}
		mine := false
		for _, id := range ids {
			mine = mine || (id.Platform == platform && id.PlatformUserID == user)
		}
		switch {
		case !mine:
			return reply("unlink.not_linked"), false, nil
		case len(ids) < 2:
			return reply("unlink.none"), false, nil
		}
		if _, err := tx.UnlinkAccount(ctx, a.CommunityID, a.MemberID, platform, user); err != nil {
			return Result{}, false, err
		}
		if err := s.audit(ctx, tx, a, "member.unlinked", "member:"+ref(a.MemberID), "platform="+platform); err != nil {
			return Result{}, false, err
		}
		return reply("unlink.done", "Platform", platformName(platform), "User", ui.UserText(user)), true, nil
	})
}

// mineLinks is the line of Mine that names a member's linked accounts and says that
// platform roles stay with each platform's account; nothing for a single account.
func mineLinks(ctx context.Context, tx *store.Tx, a Actor) ([]ui.Out, error) {
	ids, err := tx.IdentitiesOf(ctx, a.MemberID)
	if err != nil || len(ids) < 2 {
		return nil, err
	}
	var names []string
	for _, id := range ids {
		names = append(names, id.Platform)
	}
	return []ui.Out{{To: ui.Actor(), Card: ui.Card{Body: []ui.Text{
		ui.T("link.mine", "Count", len(ids), "Platforms", ui.UserText(strings.Join(names, ", "))), ui.T("link.roles"), ui.T("link.how_unlink"),
	}}}}, nil
}
