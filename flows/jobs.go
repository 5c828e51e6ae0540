package flows

import (
	"context"
	"fmt"
	"time"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// The scheduled jobs: what happens to a request when nobody acts (nudge the volunteers,
// then the moderators, then expire it), the reminders before a claimed slot, the
// follow-up after it, the daily digest and the retention purge. Each runs in one
// transaction, checks that it is still called for (a request claimed since the job was
// scheduled is left alone) and speaks to members, the board or the moderators: there is
// no actor to answer.

// Timing of the jobs a request, an acceptance or a change of plans schedules.
const (
	nudgeAfter    = 2 * time.Hour
	escalateAfter = 6 * time.Hour
	remindDay     = 24 * time.Hour
	remindHour    = time.Hour
	followUpAfter = 24 * time.Hour
	// A reminder with at least this much time left speaks of tomorrow, else of soon.
	remindDayWording = 6 * time.Hour
	// DigestSize is the most requests a digest lists.
	DigestSize = 10
	// DialogueRetention is how long a half-answered dialogue is kept.
	DialogueRetention = 24 * time.Hour
	// DefaultRetentionDays applies to a community without a retention setting.
	DefaultRetentionDays = 30
)

// RunJob runs a scheduled job by kind. An unknown kind is an error.
func (s *Service) RunJob(ctx context.Context, j Job) (Result, error) {
	if stale, err := s.staleJob(ctx, j); err != nil || stale {
		return Result{}, err
	}
	switch j.Kind {
	case JobNudge:
		return s.Nudge(ctx, j.Ref)
	case JobEscalate:
		return s.Escalate(ctx, j.Ref)
	case JobExpire:
		return s.Expire(ctx, j.Ref)
	case JobRemind:
		return s.Remind(ctx, j.Ref)
	case JobFollowUp:
		return s.FollowUp(ctx, j.Ref)
	}
	if run, ok := s.routes.Jobs[j.Kind]; ok {
		return run(ctx, j.Ref)
	}
	return Result{}, fmt.Errorf("flows: unknown job kind %q", j.Kind)
}

// requestJobs are the jobs of a request that has just been posted or has just reopened
// at now: nudge matching volunteers after two hours (halfway to the start when it is
// sooner), tell the moderators after six hours (an hour before the start, or halfway
// between the nudge and the start, when it is sooner), expire it at the end of its window.
func requestJobs(r store.Request, now int64) []Job {
	start := r.StartsAt
	var jobs []Job
	nudge := now + int64(nudgeAfter/time.Second)
	if nudge >= start {
		nudge = now + (start-now)/2
	}
	if nudge > now && nudge < start {
		jobs = append(jobs, Job{Kind: JobNudge, Ref: r.ID, At: nudge})
	}
	escalate := now + int64(escalateAfter/time.Second)
	if escalate >= start {
		escalate = start - int64(remindHour/time.Second)
		if escalate <= nudge {
			escalate = nudge + (start-nudge)/2
		}
	}
	if escalate > now && escalate < start {
		jobs = append(jobs, Job{Kind: JobEscalate, Ref: r.ID, At: escalate})
	}
	return append(jobs, Job{Kind: JobExpire, Ref: r.ID, At: r.EndsAt})
}

// askJobs are the jobs of a new request.
func askJobs(r store.Request, now int64) []Job { return requestJobs(r, now) }

// withdrawJobs are the jobs of a request a helper stepped back from. Matching volunteers
// were told at once, so the nudge comes later, as for a new request; the expiry
// scheduled when it was asked still stands.
func withdrawJobs(r store.Request, now int64) []Job {
	var jobs []Job
	for _, j := range requestJobs(r, now) {
		if j.Kind != JobExpire {
			jobs = append(jobs, j)
		}
	}
	return jobs
}

// acceptJobs remind helper and requester a day and an hour before the slot, when those
// moments are still ahead.
func acceptJobs(claimID int64, slotStart, now int64) []Job {
	var jobs []Job
	for _, before := range []time.Duration{remindDay, remindHour} {
		if at := slotStart - int64(before/time.Second); at > now {
			jobs = append(jobs, Job{Kind: JobRemind, Ref: claimID, At: at})
		}
	}
	return jobs
}

// doneJobs schedule the follow-up of a request that is done, only when its requester
// agreed to be asked how it went.
func doneJobs(ctx context.Context, tx *store.Tx, r store.Request) ([]Job, error) {
	if r.Status != "done" {
		return nil, nil
	}
	ok, err := followUpConsent(ctx, tx, r)
	if err != nil || !ok {
		return nil, err
	}
	return []Job{{Kind: JobFollowUp, Ref: r.ID, At: tx.Now() + int64(followUpAfter/time.Second)}}, nil
}

func followUpConsent(ctx context.Context, tx *store.Tx, r store.Request) (bool, error) {
	_, err := tx.ActiveConsent(ctx, r.RequesterID, store.PurposeFollowUp, r.ID, 0)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// loadRequest loads a request and its community's time zone; ok is false when it is gone.
func loadRequest(ctx context.Context, tx *store.Tx, id int64) (store.Request, string, bool, error) {
	r, err := tx.Request(ctx, id)
	if isNotFound(err) {
		return r, "", false, nil
	}
	if err != nil {
		return r, "", false, err
	}
	c, _, err := community(ctx, tx, r.CommunityID)
	if err != nil {
		return r, "", false, err
	}
	return r, c.Timezone, true, nil
}

func hasFreePlace(ctx context.Context, tx *store.Tx, request int64) (bool, error) {
	slots, err := tx.SlotsOfRequest(ctx, request)
	if err != nil {
		return false, err
	}
	for _, sl := range slots {
		if sl.Taken < sl.Capacity {
			return true, nil
		}
	}
	return false, nil
}

// Nudge tells matching volunteers again about a request that still has a free place and
// has not started; those who already offered on it are not asked again.
func (s *Service) Nudge(ctx context.Context, requestID int64) (Result, error) {
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		r, zone, ok, err := loadRequest(ctx, tx, requestID)
		if err != nil || !ok || r.Status != "open" || r.StartsAt <= tx.Now() || r.PausedAt.Valid {
			return Result{}, false, err
		}
		if free, err := hasFreePlace(ctx, tx, r.ID); err != nil || !free {
			return Result{}, false, err
		}
		asked, err := tx.ClaimantsOfRequest(ctx, r.ID)
		if err != nil {
			return Result{}, false, err
		}
		notices, err := matchNotices(ctx, tx, r, zone, append(asked, r.RequesterID)...)
		if err != nil || len(notices) == 0 {
			return Result{}, false, err
		}
		for i := range notices {
			notices[i].Card.Title = ui.T("job.nudge.title")
			notices[i].Card.Body = append(notices[i].Card.Body, ui.T("job.nudge.body"))
		}
		if err := tx.Audit(ctx, r.CommunityID, 0, "request.nudged", "request:"+ref(r.ID), fmt.Sprintf("volunteers=%d", len(notices))); err != nil {
			return Result{}, false, err
		}
		return Result{Outs: notices}, true, nil
	})
}

// Escalate tells the moderators about a request that is still open with nobody having
// offered. The card carries the public part only, as the board shows it.
func (s *Service) Escalate(ctx context.Context, requestID int64) (Result, error) {
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		r, zone, ok, err := loadRequest(ctx, tx, requestID)
		if err != nil || !ok || r.Status != "open" || r.EndsAt <= tx.Now() || r.Hidden || r.PausedAt.Valid {
			return Result{}, false, err
		}
		claims, err := tx.LiveClaimsOnRequest(ctx, r.ID)
		if err != nil || len(claims) > 0 {
			return Result{}, false, err
		}
		m, err := tx.Member(ctx, r.RequesterID)
		if err != nil {
			return Result{}, false, err
		}
		if err := tx.Audit(ctx, r.CommunityID, 0, "request.escalated", "request:"+ref(r.ID), "reason=unclaimed"); err != nil {
			return Result{}, false, err
		}
		return Result{Outs: []ui.Out{{To: ui.Moderators(r.CommunityID), Card: ui.Card{
			Title:  ui.T("job.escalate.title"),
			Body:   []ui.Text{requestTitle(r), ui.T("job.escalate.body")},
			Fields: requestFields(r, requesterLabel(r, m), zone),
		}}}}, true, nil
	})
}

// Expire closes a request still open at the end of its window: offers of help waiting
// for confirmation are closed with thanks, the board card says it expired and the
// requester is told kindly. A matched request is left alone.
func (s *Service) Expire(ctx context.Context, requestID int64) (Result, error) {
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		r, zone, ok, err := loadRequest(ctx, tx, requestID)
		if err != nil || !ok || r.Status != "open" || r.EndsAt > tx.Now() {
			return Result{}, false, err
		}
		claims, err := tx.LiveClaimsOnRequest(ctx, r.ID)
		if err != nil {
			return Result{}, false, err
		}
		moved, err := tx.SetRequestStatus(ctx, r.ID, "expired", "open")
		if err != nil || !moved {
			return Result{}, false, err
		}
		r.Status = "expired"
		var res Result
		for _, c := range claims {
			// An accepted helper of a visit still short of its second helper is stood
			// down too, unless they went anyway (the check after the visit follows them).
			alone, err := aloneOnVisit(ctx, tx, c)
			if err != nil {
				return Result{}, false, err
			}
			if c.State != store.ClaimOffered && !alone {
				continue
			}
			moved, err := tx.MoveClaim(ctx, c.ID, store.ClaimCancelled, c.State)
			if err != nil {
				return Result{}, false, err
			}
			msg := "job.expire.helper"
			if alone {
				msg = "visit.two.expired"
			}
			if moved {
				res.add(ui.Out{To: ui.Member(c.MemberID), Card: ui.Card{Body: []ui.Text{
					ui.T(msg, "Summary", ui.UserText(r.Summary))}}})
			}
		}
		if err := tx.Audit(ctx, r.CommunityID, 0, "request.expired", "request:"+ref(r.ID), ""); err != nil {
			return Result{}, false, err
		}
		to, note, err := requesterNote(ctx, tx, r)
		if err != nil {
			return Result{}, false, err
		}
		res.add(ui.Out{To: to, Card: ui.Card{
			Title:   ui.T("job.expire.title"),
			Body:    append(note, ui.T("job.expire.requester", "Summary", ui.UserText(r.Summary))),
			Buttons: []ui.Button{{Label: ui.T("button.ask"), Action: ActAsk, Style: ui.StylePrimary}},
		}})
		board, err := boardRequest(ctx, tx, r, zone)
		if err != nil {
			return Result{}, false, err
		}
		res.add(board)
		return res, true, nil
	})
}

// Remind tells the helper and the requester of an accepted claim that it is coming up,
// with the window: "tomorrow" a day before, "soon" an hour before.
func (s *Service) Remind(ctx context.Context, claimID int64) (Result, error) {
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		cc, ok, err := loadClaim(ctx, tx, claimID)
		if err != nil || !ok {
			return Result{}, false, err
		}
		r, c := cc.request, cc.claim
		now := tx.Now()
		if c.State != store.ClaimAccepted || r.Status != "matched" || cc.slot.StartsAt <= now || r.PausedAt.Valid {
			return Result{}, false, nil
		}
		title := ui.T("job.remind.soon")
		if time.Duration(cc.slot.StartsAt-now)*time.Second >= remindDayWording {
			title = ui.T("job.remind.tomorrow")
		}
		helper, err := tx.Member(ctx, c.MemberID)
		if err != nil {
			return Result{}, false, err
		}
		requester, err := tx.Member(ctx, r.RequesterID)
		if err != nil {
			return Result{}, false, err
		}
		fields := []ui.Field{
			{Label: ui.T("field.when"), Value: ui.T("value.window", "Window", window(cc.slot.StartsAt, cc.slot.EndsAt, cc.zone))},
			{Label: ui.T("field.area"), Value: ui.T("value.text", "Text", ui.UserText(r.Area))},
		}
		var res Result
		res.add(ui.Out{To: ui.Member(helper.ID), Card: ui.Card{
			Title:   title,
			Body:    []ui.Text{requestTitle(r), ui.T("job.remind.helper", "Name", nameOf(requester))},
			Fields:  fields,
			Buttons: []ui.Button{{Label: ui.T("button.done"), Action: ActDone, Payload: ref(c.ID)}, {Label: ui.T("button.withdraw"), Action: ActWithdraw, Payload: ref(c.ID)}},
		}})
		to, err := toRequester(ctx, tx, r)
		if err != nil {
			return Result{}, false, err
		}
		res.add(ui.Out{To: to, Card: ui.Card{
			Title:   title,
			Body:    append(forNote(requester), requestTitle(r), ui.T("job.remind.requester", "Name", ui.UserText(helper.DisplayName))),
			Fields:  fields,
			Buttons: []ui.Button{{Label: ui.T("button.cancel_request"), Action: ActCancel, Payload: ref(r.ID), Style: ui.StyleDanger}},
		}})
		return res, true, nil
	})
}

// FollowUp asks the requester of a request that is done how it went, only when they
// agreed to it (a follow_up consent scoped to the request, still active).
func (s *Service) FollowUp(ctx context.Context, requestID int64) (Result, error) {
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		r, _, ok, err := loadRequest(ctx, tx, requestID)
		if err != nil || !ok || r.Status != "done" {
			return Result{}, false, err
		}
		if ok, err := followUpConsent(ctx, tx, r); err != nil || !ok {
			return Result{}, false, err
		}
		if err := tx.Audit(ctx, r.CommunityID, 0, "request.followed_up", "request:"+ref(r.ID), "basis=consent"); err != nil {
			return Result{}, false, err
		}
		to, note, err := requesterNote(ctx, tx, r)
		if err != nil {
			return Result{}, false, err
		}
		return Result{Outs: []ui.Out{{To: to, Card: ui.Card{
			Title:   ui.T("job.follow_up.title"),
			Body:    append(note, ui.T("job.follow_up.body", "Summary", ui.UserText(r.Summary))),
			Buttons: []ui.Button{{Label: ui.T("button.ask"), Action: ActAsk, Style: ui.StylePrimary}},
		}}}}, true, nil
	})
}

// Digest posts to the board the requests still looking for a helper, oldest first, at
// most DigestSize of them, with their public part only. With none, it says nothing.
func (s *Service) Digest(ctx context.Context, communityID int64) (Result, error) {
	return s.run(ctx, func(tx *store.Tx) (Result, error) {
		c, _, err := community(ctx, tx, communityID)
		if err != nil {
			return Result{}, err
		}
		bs, err := tx.Bindings(ctx, c.ID)
		if err != nil {
			return Result{}, err
		}
		if len(bs) < 2 {
			rs, total, err := tx.OpenRequestsWithPlace(ctx, c.ID, tx.Now(), DigestSize)
			if err != nil || len(rs) == 0 {
				return Result{}, err
			}
			return Result{Outs: []ui.Out{{To: ui.Board(c.ID), Card: digestCard(rs, total, c.Timezone)}}}, nil
		}
		// Several spaces: each board lists only the requests shown there.
		all, _, err := tx.OpenRequestsWithPlace(ctx, c.ID, tx.Now(), digestScan)
		if err != nil {
			return Result{}, err
		}
		var res Result
		for _, b := range bs {
			var rs []store.Request
			for _, r := range all {
				if len(store.RequestSpaces([]store.Binding{b}, r.OriginPlatform, r.OriginWorkspace, r.Shared)) == 1 {
					rs = append(rs, r)
				}
			}
			if len(rs) > 0 {
				res.add(ui.Out{To: ui.SpaceBoard(c.ID, ui.Space{Platform: b.Platform, Workspace: b.Workspace}),
					Card: digestCard(rs[:min(len(rs), DigestSize)], len(rs), c.Timezone)})
			}
		}
		return res, nil
	})
}

// digestScan is how many open requests a digest reads when it sorts them by space.
const digestScan = 500

// digestCard lists requests looking for a helper, total of them in all.
func digestCard(rs []store.Request, total int, zone string) ui.Card {
	card := ui.Card{Title: ui.T("job.digest.title", "Count", total)}
	for _, r := range rs {
		card.Body = append(card.Body, ui.T("job.digest.item", "Request", requestTitle(r),
			"When", window(r.StartsAt, r.EndsAt, zone), "Area", ui.UserText(r.Area)))
	}
	if more := total - len(rs); more > 0 {
		card.Body = append(card.Body, ui.T("job.digest.more", "Count", more))
	}
	card.Body = append(card.Body, ui.T("job.digest.footer"))
	return card
}

// Communities lists the ids of every community, for jobs that run per community.
func (s *Service) Communities(ctx context.Context) ([]int64, error) {
	var ids []int64
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		cs, err := tx.Communities(ctx)
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		return err
	})
	return ids, err
}

// PurgeCounts says what a retention purge erased.
type PurgeCounts struct {
	// Communities is how many communities had something purged.
	Communities int
	// Requests and Claims are how many rows lost their private part.
	Requests, Claims int64
	// Dialogues is how many half-answered forms were deleted.
	Dialogues int64
}

// Purge applies retention as of now: the private details of requests closed (done,
// cancelled, expired) longer ago than their community's retention days are erased, and
// so is what members shared on claims of those requests, of offers that ended that long
// ago, and on claims that ended that long ago. Dialogues abandoned for a day are deleted.
// Each community purged gets one audit row, with counts only. Public parts and the
// audit trail stay, so figures still add up.
func (s *Service) Purge(ctx context.Context, now time.Time) (PurgeCounts, error) {
	var pc PurgeCounts
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		pc = PurgeCounts{}
		cs, err := tx.Communities(ctx)
		if err != nil {
			return err
		}
		for _, c := range cs {
			days := c.RetentionDays
			if days <= 0 {
				days = DefaultRetentionDays
			}
			cutoff := now.Add(-time.Duration(days) * 24 * time.Hour).Unix()
			reqs, err := tx.PurgeRequestPrivate(ctx, c.ID, cutoff)
			if err != nil {
				return err
			}
			claims, err := tx.PurgeClaimPrivate(ctx, c.ID, cutoff)
			if err != nil {
				return err
			}
			if _, err := tx.PurgeCodeWords(ctx, c.ID, now.Add(-codeWordKept).Unix()); err != nil {
				return err
			}
			if reqs+claims == 0 {
				continue
			}
			pc.Communities++
			pc.Requests += reqs
			pc.Claims += claims
			if err := tx.Audit(ctx, c.ID, 0, "retention.purged", fmt.Sprintf("community:%d", c.ID),
				fmt.Sprintf("requests=%d claims=%d retention_days=%d", reqs, claims, days)); err != nil {
				return err
			}
		}
		pc.Dialogues, err = tx.PurgeDialogues(ctx, now.Add(-DialogueRetention).Unix())
		return err
	})
	return pc, err
}
