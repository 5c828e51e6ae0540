package flows

import (
	"context"
	"strings"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// Notice is the privacy notice shown at first contact: what is stored, why, for how
// long and who sees it. Nothing beyond the platform id is kept until the person accepts,
// and not even that is written by showing it.
func (s *Service) Notice(ctx context.Context, a Actor) (Result, error) {
	var res Result
	err := s.read(ctx, func(tx *store.Tx) error {
		c, _, err := community(ctx, tx, a.CommunityID)
		if err != nil {
			return err
		}
		officer := c.PrivacyOfficer
		if officer == "" {
			officer = "-"
		}
		res.add(ui.Out{To: ui.Actor(), Card: ui.Card{
			Title: ui.T("notice.title", "Community", ui.UserText(c.Name)),
			Body: []ui.Text{
				ui.T("notice.what"), ui.T("notice.private"), ui.T("notice.who"),
				ui.T("notice.how_long", "Count", c.RetentionDays),
				ui.T("notice.rights"),
				ui.T("notice.officer", "Officer", ui.UserText(officer)),
			},
			Buttons: []ui.Button{
				{Label: ui.T("button.notice_accept"), Action: ActNoticeAccept, Payload: NoticeVersion, Style: ui.StylePrimary},
				{Label: ui.T("button.notice_decline"), Action: ActNoticeDecline, Payload: NoticeVersion},
			},
		}})
		if a.IsMember() {
			// Members reach "My data" from here on every platform (Discord has no room
			// for another command).
			res.Outs[len(res.Outs)-1].Card.Buttons = append(res.Outs[len(res.Outs)-1].Card.Buttons, myDataButton())
		}
		return nil
	})
	return res, err
}

// AcceptNotice makes the person a member, recording the store_profile consent with the
// notice version and the event that gave it. Pressing it twice changes nothing.
func (s *Service) AcceptNotice(ctx context.Context, a Actor, version string) (Result, error) {
	if version != NoticeVersion {
		// An old notice card: show the current one rather than record consent to text
		// the person did not see.
		return s.Notice(ctx, a)
	}
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		name := strings.TrimSpace(a.Name)
		if name == "" {
			name = a.UserID
		}
		m, created, err := tx.CreateMember(ctx, a.CommunityID, a.Platform, a.UserID, clip(name, 80), a.Locale, NoticeVersion, a.evidence(ActNoticeAccept))
		if err != nil {
			return Result{}, false, err
		}
		if !created {
			return reply("notice.already"), false, nil
		}
		a.MemberID = m.ID
		if err := s.audit(ctx, tx, a, "member.joined", "member:"+ref(m.ID), "notice="+NoticeVersion); err != nil {
			return Result{}, false, err
		}
		return Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{
			Title: ui.T("welcome.title", "Name", ui.UserText(m.DisplayName)),
			Body:  []ui.Text{ui.T("welcome.body")},
			Buttons: []ui.Button{
				{Label: ui.T("button.ask"), Action: ActAsk, Style: ui.StylePrimary},
			},
		}}}}, true, nil
	})
}

// DeclineNotice stores nothing and says so.
func (s *Service) DeclineNotice(_ context.Context, a Actor) (Result, error) {
	if a.IsMember() {
		return reply("notice.declined_member"), nil
	}
	return reply("notice.declined"), nil
}

// Help lists what the person can do.
func (s *Service) Help(ctx context.Context, a Actor) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	body := []ui.Text{ui.T("help.ask"), ui.T("help.offer"), ui.T("help.volunteer"), ui.T("help.mine"), ui.T("help.privacy"), ui.T("help.worried"), ui.T("help.flag")}
	body = append(body, ui.T("help.ask_for"), ui.T("help.link"))
	if a.Moderator {
		body = append(body, ui.T("help.moderator"))
	}
	return Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{Title: ui.T("help.title"), Body: body}}}}, nil
}

// clip shortens s to n runes.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
