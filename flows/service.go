// Package flows is tend's domain: welcome and consent, ask, offer, claim and the changes
// of plans. Each step runs one store transaction and returns what to say to whom as
// neutral UI. Flows import no adapter and no platform SDK.
package flows

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// NoticeVersion is the privacy notice a member accepts; evidence records it.
const NoticeVersion = "2026-11"

// Limits on what people type, so cards stay readable and storage bounded.
const (
	MaxSummary = 140
	MaxArea    = 60
	MaxAddress = 200
	MaxPhone   = 40
	MaxNotes   = 1000
	MaxList    = 200
)

// Service runs the flows against a store.
type Service struct {
	db       *store.DB
	log      *slog.Logger
	routes   Routes
	screener Screener
	words    codeWords
}

// New returns a Service. A nil logger discards.
func New(db *store.DB, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: db, log: log}
	s.routes = s.buildRoutes()
	return s
}

// Actor is the person behind an event, as identity resolution found them.
type Actor struct {
	CommunityID int64
	// MemberID is 0 for someone who has not accepted the privacy notice.
	MemberID int64
	Platform string
	UserID   string
	Name     string
	Locale   string
	// Moderator and Vetted come from config or platform roles, checked on every action.
	Moderator bool
	Vetted    bool
	// InDM says the actor is in a direct conversation with the bot, where an answer to
	// them is already a direct message.
	InDM bool
	// Workspace and Channel are where the actor acted (setup binds that space and makes
	// that channel the board or the moderators' channel).
	Workspace string
	Channel   string
	// PlatformAdmin says the platform calls the actor an administrator of the space: only
	// such a person may set tend up in a space that is not bound yet.
	PlatformAdmin bool
	// EventID and Surface are kept as the evidence of consents given by this action.
	EventID string
	Surface string
}

// IsMember reports whether the actor accepted the privacy notice.
func (a Actor) IsMember() bool { return a.MemberID != 0 }

func (a Actor) evidence(action string) store.Evidence {
	return store.Evidence{Surface: a.Surface, EventID: a.EventID, Action: action}
}

// Result is what a flow step says and shows.
type Result struct {
	Outs []ui.Out
	// Form, when set, is a form to open for the actor.
	Form *ui.Form
	// Errors are validation messages for a submitted form; nothing was changed.
	Errors []ui.FieldError
	// Jobs are scheduled in the same transaction as the change that calls for them.
	Jobs []Job
}

// Job kinds flows schedule.
const (
	JobNudge    = "nudge"     // remind matching volunteers of an unclaimed request
	JobEscalate = "escalate"  // tell the moderators a request is still unclaimed
	JobExpire   = "expire"    // close a request whose window has passed
	JobRemind   = "remind"    // remind helper and requester before a claimed slot
	JobFollowUp = "follow_up" // ask the requester how it went, with follow_up consent
)

// Job is a piece of work for later: what, about which row, and when (Unix seconds).
type Job struct {
	Kind string
	// Ref is the row the job is about (a request or a claim id).
	Ref int64
	At  int64
}

func (r *Result) add(o ...ui.Out) { r.Outs = append(r.Outs, o...) }

// reply is a private answer to the actor.
func reply(id string, kv ...any) Result {
	return Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{Body: []ui.Text{ui.T(id, kv...)}}}}}
}

// ErrNoCommunity is returned when an actor's community does not exist.
var ErrNoCommunity = errors.New("flows: community not found")

// run runs fn in one transaction; a result with validation errors changes nothing.
func (s *Service) run(ctx context.Context, fn func(tx *store.Tx) (Result, error)) (Result, error) {
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		res, err := fn(tx)
		return res, len(res.Errors) == 0, err
	})
}

var (
	// errNoChange rolls back a step that decided to change nothing (a kind refusal).
	errNoChange = errors.New("flows: no change")
	// errWroteThenRefused is a bug guard: a step inside an event's transaction refused
	// after it had written, so the whole event is failed rather than half kept.
	errWroteThenRefused = errors.New("flows: a step wrote and then refused")
)

// step runs fn so that a kind refusal (changed false) leaves nothing behind. On its own
// it is a transaction that rolls back on refusal. Inside an event's transaction it needs
// no savepoint: steps decide to refuse before they write, and the write count proves it;
// a step that wrote and then refused fails the whole event instead.
func (s *Service) step(ctx context.Context, fn func(tx *store.Tx) (Result, bool, error)) (Result, error) {
	if tx, ok := s.db.Joined(ctx); ok {
		before := tx.Writes()
		r, changed, err := fn(tx)
		if err != nil {
			return r, err
		}
		if !changed && tx.Writes() != before {
			return r, errWroteThenRefused
		}
		return r, nil
	}
	var res Result
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		r, changed, err := fn(tx)
		res = r
		if err != nil {
			return err
		}
		if !changed {
			return errNoChange
		}
		return nil
	})
	if errors.Is(err, errNoChange) {
		return res, nil
	}
	return res, err
}

// read runs a read-only fn in the event's transaction when there is one, else in its own.
func (s *Service) read(ctx context.Context, fn func(tx *store.Tx) error) error {
	if tx, ok := s.db.Joined(ctx); ok {
		return fn(tx)
	}
	return s.db.InTx(ctx, fn)
}

// memberStep is step for members only; anyone else is shown the privacy notice.
func (s *Service) memberStep(ctx context.Context, a Actor, fn func(tx *store.Tx) (Result, bool, error)) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	return s.step(ctx, fn)
}

// memberRun is run for members only; anyone else is shown the privacy notice.
func (s *Service) memberRun(ctx context.Context, a Actor, fn func(tx *store.Tx) (Result, error)) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	return s.run(ctx, fn)
}

// community loads the actor's community and its time zone.
func community(ctx context.Context, tx *store.Tx, id int64) (store.Community, *time.Location, error) {
	c, err := tx.Community(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return c, nil, ErrNoCommunity
	}
	if err != nil {
		return c, nil, err
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		loc = time.UTC
	}
	return c, loc, nil
}

// ID parses an opaque button payload into a row id; a malformed payload is 0.
func ID(payload string) int64 {
	n, err := strconv.ParseInt(payload, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func ref(id int64) string { return strconv.FormatInt(id, 10) }

// Ref is a row id as a button payload.
func Ref(id int64) string { return ref(id) }

func requestKey(id int64) string { return fmt.Sprintf("request:%d", id) }
func offerKey(id int64) string   { return fmt.Sprintf("offer:%d", id) }

func (s *Service) audit(ctx context.Context, tx *store.Tx, a Actor, action, subject string, detail string) error {
	return tx.Audit(ctx, a.CommunityID, a.MemberID, action, subject, detail)
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

type sqlNullInt = sql.NullInt64
