package bot

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
)

// Roles says whether a platform account holds a moderator or vetted role in a community,
// from config now and from platform roles once adapters map them. It is asked on every
// event, so a removed role takes effect at once.
type Roles func(community int64, platform, userID string) (moderator, vetted bool)

// App routes events to flows and delivers what they say through the adapters.
type App struct {
	db       *store.DB
	flows    *flows.Service
	cat      *catalog.Catalog
	log      *slog.Logger
	roles    Roles
	adapters map[string]Adapter
	buttons  map[string]pressFunc
	metrics  Metrics
	jobs     Scheduler
	kicks    chan int64

	mu          sync.Mutex
	pausedUntil map[string]time.Time
}

// Scheduler puts jobs on the durable queue in the caller's transaction (bot/jobs).
type Scheduler interface {
	Schedule(ctx context.Context, tx *store.Tx, jobs []flows.Job) error
}

// Metrics receives what the bot counts (obs.Metrics).
type Metrics interface {
	Event(platform, kind, outcome string, ack time.Duration)
	Delivery(platform, outcome string)
}

type noMetrics struct{}

func (noMetrics) Event(string, string, string, time.Duration) {}
func (noMetrics) Delivery(string, string)                     {}

// Options configure an App.
type Options struct {
	DB      *store.DB
	Catalog *catalog.Catalog
	Logger  *slog.Logger
	Roles   Roles
	Metrics Metrics
}

// New builds an App. Adapters are added with Attach.
func New(o Options) *App {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	roles := o.Roles
	if roles == nil {
		roles = func(int64, string, string) (bool, bool) { return false, false }
	}
	var m Metrics = noMetrics{}
	if o.Metrics != nil {
		m = o.Metrics
	}
	f := flows.New(o.DB, log)
	return &App{db: o.DB, flows: f, cat: o.Catalog, log: log, roles: roles, adapters: map[string]Adapter{},
		buttons: buttons(f), metrics: m, kicks: make(chan int64, 4096), pausedUntil: map[string]time.Time{}}
}

// pressFunc is a flow step behind a button whose payload names a row.
type pressFunc func(ctx context.Context, a flows.Actor, id int64) (flows.Result, error)

// buttons maps each row-addressed button action to its flow.
func buttons(f *flows.Service) map[string]pressFunc {
	return map[string]pressFunc{
		flows.ActClaim: f.Claim,
		flows.ActJoin:  f.Claim,
		flows.ActAcceptShare: func(ctx context.Context, a flows.Actor, id int64) (flows.Result, error) {
			return f.Accept(ctx, a, id, true)
		},
		flows.ActAcceptOnly: func(ctx context.Context, a flows.Actor, id int64) (flows.Result, error) {
			return f.Accept(ctx, a, id, false)
		},
		flows.ActDecline:     f.Decline,
		flows.ActDone:        f.Done,
		flows.ActCancel:      f.Cancel,
		flows.ActWithdraw:    f.Withdraw,
		flows.ActLeave:       f.Leave,
		flows.ActCancelOffer: f.CancelOffer,
	}
}

// Attach registers an adapter for its platform.
func (a *App) Attach(ad Adapter) { a.adapters[ad.Platform()] = ad }

// UseScheduler connects the durable job queue: flow jobs are scheduled in the same
// transaction as the change that calls for them.
func (a *App) UseScheduler(s Scheduler) { a.jobs = s }

// Flows exposes the flow service (the command line calls the same flows).
func (a *App) Flows() *flows.Service { return a.flows }

// scene is what identity resolution found for an event.
type scene struct {
	ev        Event
	actor     flows.Actor
	community store.Community
	binding   store.Binding
	// resume is a draft's form given again (ActResumeForm).
	resume *RenderedForm
	// left says the account had left its space: this event is its return.
	left bool
}

// Handle records the event in the inbox, resolves who acted and where, runs the flow, and
// writes what it says to the outbox, all in one transaction. It returns the reply that
// answers the interaction; delivery of the rest starts after the commit. A redelivered
// event gets the first delivery's reply and changes nothing.
func (a *App) Handle(ctx context.Context, ev Event) (Reply, error) {
	start := time.Now()
	reply, outcome, ids, err := a.handle(ctx, ev)
	a.metrics.Event(ev.Platform, string(ev.Kind), outcome, time.Since(start))
	if err != nil {
		return reply, err
	}
	a.kick(ids)
	return reply, nil
}

func (a *App) handle(ctx context.Context, ev Event) (Reply, string, []int64, error) {
	if ev.ID == "" || ev.Platform == "" {
		return Reply{}, "error", nil, errors.New("bot: an event needs a platform and an id")
	}
	var (
		reply   Reply
		ids     []int64
		outcome string
	)
	err := a.db.InTx(ctx, func(tx *store.Tx) error {
		reply, ids, outcome = Reply{}, nil, "ok"
		fresh, stored, err := tx.ClaimEvent(ctx, ev.Platform, ev.Workspace, ev.ID)
		if err != nil {
			return err
		}
		if !fresh {
			outcome = "duplicate"
			if stored == "" {
				return nil
			}
			return json.Unmarshal([]byte(stored), &reply)
		}
		tctx := store.WithTx(ctx, tx)
		sc, ok, err := a.resolve(tctx, ev)
		if err != nil {
			return err
		}
		setup := false
		if !ok {
			if setup, err = a.setupEvent(tctx, sc); err != nil {
				return err
			}
		}
		if setup {
			// A space not set up yet: only setting it up gets through.
			a.log.Info("setup event", "platform", ev.Platform, "event", ev.ID, "kind", string(ev.Kind), "action", ev.Action)
			sc.actor = setupActor(sc.ev)
			var res flows.Result
			if ev.Kind == EventButton && ev.Action == ActResumeForm {
				res, sc.resume, err = a.resumeForm(tctx, sc)
			} else {
				res, err = a.route(tctx, sc)
			}
			if err != nil {
				return err
			}
			if reply, ids, err = a.commit(tctx, tx, sc, res); err != nil {
				return err
			}
		} else if !ok {
			outcome = "unbound"
			switch {
			case ev.Kind == EventMemberLeft:
				// Someone leaving a server the bot is in but no community uses: nothing to do.
			case ev.Workspace == "":
				reply = a.systemReply(ev, "space.unknown_dm")
			default:
				a.log.Warn("event from an unbound space", "platform", ev.Platform, "workspace", ev.Workspace)
				reply = a.systemReply(ev, "space.unbound")
			}
		} else {
			a.log.Info("event", "platform", ev.Platform, "event", ev.ID, "kind", string(ev.Kind),
				"command", ev.Command, "action", ev.Action, "member", sc.actor.MemberID)
			var res flows.Result
			if ev.Kind == EventButton && ev.Action == ActResumeForm {
				res, sc.resume, err = a.resumeForm(tctx, sc)
			} else {
				res, err = a.dispatch(tctx, sc)
			}
			if err != nil {
				return err
			}
			if reply, ids, err = a.commit(tctx, tx, sc, res); err != nil {
				return err
			}
		}
		return a.storeReply(tctx, tx, ev, reply)
	})
	if err != nil {
		outcome, calm := "error", "error.internal"
		if unavailable(err) {
			outcome, calm = "unavailable", "error.unavailable"
		}
		a.log.Error("event failed", "platform", ev.Platform, "event", ev.ID, "kind", string(ev.Kind), "outcome", outcome, "err", err)
		return a.systemReply(ev, calm), outcome, nil, err
	}
	return reply, outcome, ids, nil
}

// storeReply keeps the reply for redeliveries, unless it shows private details: those
// are never kept in clear text, so a redelivery of such an event gets no reply.
func (a *App) storeReply(ctx context.Context, tx *store.Tx, ev Event, r Reply) error {
	if r.private {
		return nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("bot: store reply: %w", err)
	}
	return tx.SetEventReply(ctx, ev.Platform, ev.Workspace, ev.ID, string(b))
}

// inEvent runs fn in the event's transaction when there is one, else in a transaction
// of its own. No savepoint: any error fails the whole event, which rolls it all back.
func (a *App) inEvent(ctx context.Context, fn func(tx *store.Tx) error) error {
	if tx, ok := store.TxFrom(ctx); ok {
		return fn(tx)
	}
	return a.db.InTx(ctx, fn)
}

// unavailable reports errors that mean the database cannot be reached right now.
func unavailable(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	s := err.Error()
	for _, sub := range []string{"connection refused", "broken pipe", "connection reset", "no such host",
		"the database system is", "database is locked", "unexpected EOF", "bad connection", "i/o timeout"} {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// systemReply is a reply that needs no flow: a calm message in the person's language.
func (a *App) systemReply(ev Event, id string) Reply {
	return Reply{InDM: ev.InDM, Messages: []Rendered{a.render(catalog.Pick(ev.Locale, "en"), ui.Card{Body: []ui.Text{ui.T(id)}})}}
}

func (a *App) resolve(ctx context.Context, ev Event) (scene, bool, error) {
	sc := scene{ev: ev}
	err := a.inEvent(ctx, func(tx *store.Tx) error {
		if ev.Workspace == "" {
			ws, err := tx.HomeWorkspace(ctx, ev.Platform, ev.UserID)
			if err != nil {
				return err
			}
			ev.Workspace, sc.ev.Workspace = ws, ws
		}
		found, err := tx.ResolveScene(ctx, ev.Platform, ev.Workspace, ev.UserID)
		if err != nil {
			return err
		}
		sc.binding, sc.community, sc.left = found.Binding, found.Community, found.Left
		m := found.Member
		mod, vetted := a.roles(sc.binding.CommunityID, ev.Platform, ev.UserID)
		locale := ev.Locale
		if locale == "" {
			locale = m.Locale
		}
		sc.actor = flows.Actor{CommunityID: sc.binding.CommunityID, MemberID: m.ID, Platform: ev.Platform, UserID: ev.UserID,
			Name: ev.UserName, Locale: locale, Moderator: mod || found.Moderator, Vetted: vetted, EventID: ev.ID, Surface: ev.Platform,
			InDM: ev.InDM, Workspace: ev.Workspace, Channel: ev.ChannelID, PlatformAdmin: ev.PlatformAdmin}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return sc, false, nil
	}
	if err != nil {
		return sc, false, fmt.Errorf("bot: resolve identity: %w", err)
	}
	return sc, true, nil
}

// dispatch turns an event into a flow call. A member-left event goes to its flow alone;
// the first event from an account back after leaving is told what was paused first.
func (a *App) dispatch(ctx context.Context, sc scene) (flows.Result, error) {
	ev, act, f := sc.ev, sc.actor, a.flows
	if ev.Kind == EventMemberLeft {
		// Not an action of theirs: no screening, no suspension check, no answer.
		return f.MemberLeft(ctx, act)
	}
	var back flows.Result
	if sc.left {
		// Back after leaving: told what was paused; nothing is restored for them.
		res, err := f.Returned(ctx, act)
		if err != nil {
			return res, err
		}
		back = res
	}
	res, err := a.screenAndRoute(ctx, sc)
	res.Outs = append(back.Outs, res.Outs...)
	return res, err
}

// screenAndRoute routes a person's event. What people write to the bot is screened
// first: a crisis signal is answered whoever writes, suspended or not joined, and the
// rest goes on (the person may still need the ride). A suspended member may still read
// the privacy notice and their own data, nothing else.
func (a *App) screenAndRoute(ctx context.Context, sc scene) (flows.Result, error) {
	ev, act, f := sc.ev, sc.actor, a.flows
	var crisis flows.Result
	standalone := false
	if ev.Kind == EventText && ev.InDM {
		res, found, err := f.ScreenText(ctx, act, ev.Text, "dialogue")
		if err != nil {
			return res, err
		}
		if found {
			if !act.IsMember() {
				return res, nil
			}
			// The answer to a signal stands alone unless a form is being answered: no
			// "I'm not waiting for an answer" after it.
			going, err := a.inDialogue(ctx, sc)
			if err != nil {
				return res, err
			}
			standalone = !going
		}
		crisis = res
	}
	var res flows.Result
	stop, err := false, error(nil)
	exempt := (ev.Kind == EventCommand && flows.SuspensionExempt(ev.Command)) || (ev.Kind == EventButton && flows.SuspensionExemptButton(ev.Action))
	if !exempt {
		res, stop, err = f.Suspension(ctx, act)
	}
	if err == nil && !stop && !standalone {
		res, err = a.route(ctx, sc)
	}
	res.Outs = append(crisis.Outs, res.Outs...)
	res.Jobs = append(crisis.Jobs, res.Jobs...)
	return res, err
}

// route calls the flow an event is for.
func (a *App) route(ctx context.Context, sc scene) (flows.Result, error) {
	ev, act, f := sc.ev, sc.actor, a.flows
	switch ev.Kind {
	case EventCommand:
		return a.command(ctx, sc)
	case EventButton:
		switch ev.Action {
		case flows.ActNoticeAccept:
			return f.AcceptNotice(ctx, act, ev.Payload)
		case flows.ActNoticeDecline:
			return f.DeclineNotice(ctx, act)
		case flows.ActAsk:
			return f.AskForm(ctx, act)
		}
		if ev.Action == ActShowUndelivered {
			return a.showUndelivered(ctx, sc)
		}
		if press, ok := a.buttons[ev.Action]; ok {
			return press(ctx, act, flows.ID(ev.Payload))
		}
		if press, ok := f.Routes().Buttons[ev.Action]; ok {
			return press(ctx, act, ev.Payload, ev.Value)
		}
		return systemResult("error.unknown_button"), nil
	case EventForm:
		if a.inParts(ev.Platform) {
			return a.submitPart(ctx, sc)
		}
		return a.submit(ctx, sc, ev.FormID, ev.FormPayload, ev.Values)
	case EventText:
		if ev.InDM {
			return a.dialogueText(ctx, sc)
		}
	}
	return flows.Result{}, nil
}

func (a *App) command(ctx context.Context, sc scene) (flows.Result, error) {
	ev, act, f := sc.ev, sc.actor, a.flows
	arg := func(i int) string {
		if i < len(ev.Args) {
			return ev.Args[i]
		}
		return ""
	}
	switch strings.ToLower(ev.Command) {
	case "", "help", "aide":
		return f.Help(ctx, act)
	case "ask", "demander":
		return f.AskForm(ctx, act)
	case "offer", "offrir":
		return f.OfferForm(ctx, act)
	case "volunteer", "benevole", "bénévole":
		switch strings.ToLower(arg(0)) {
		case "pause":
			return f.Pause(ctx, act, true)
		case "resume", "reprendre":
			return f.Pause(ctx, act, false)
		}
		return f.VolunteerForm(ctx, act)
	case "mine", "my", "moi":
		return f.Mine(ctx, act)
	case "privacy", "confidentialite", "confidentialité":
		return f.Notice(ctx, act)
	case "vet", "verifier", "vérifier":
		return f.Vet(ctx, act, arg(0), strings.Join(ev.Args[min(1, len(ev.Args)):], " "))
	case "cancel", "annuler", "stop":
		return a.cancelDialogue(ctx, sc)
	}
	if run, ok := f.Routes().Commands[strings.ToLower(ev.Command)]; ok {
		return run(ctx, act, ev.Args)
	}
	return systemResult("error.unknown_command", "Command", ui.UserText(ev.Command)), nil
}

// submit hands a completed form to its flow.
func (a *App) submit(ctx context.Context, sc scene, formID, payload string, values map[string]string) (flows.Result, error) {
	f, act := a.flows, sc.actor
	switch formID {
	case flows.FormAsk:
		return f.Ask(ctx, act, values)
	case flows.FormVolunteer:
		return f.Volunteer(ctx, act, values)
	case flows.FormOffer:
		return f.Offer(ctx, act, values)
	case flows.FormJoin:
		return f.Join(ctx, act, flows.ID(payload), values)
	}
	if run, ok := f.Routes().Forms[formID]; ok {
		return run(ctx, act, payload, values)
	}
	return systemResult("error.unknown_form"), nil
}

func systemResult(id string, kv ...any) flows.Result {
	return flows.Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{Body: []ui.Text{ui.T(id, kv...)}}}}}
}

// setupEvent reports whether an event from a space that is not bound is part of setting
// it up: /tend setup (or stopping its dialogue), its buttons and forms, and the answers
// of its dialogue or its form's draft. Nothing else reaches the flows from such a space.
func (a *App) setupEvent(ctx context.Context, sc scene) (bool, error) {
	ev := sc.ev
	if ev.Workspace == "" {
		return false, nil
	}
	switch ev.Kind {
	case EventCommand:
		if flows.IsSetupCommand(ev.Command) {
			return true, nil
		}
		if !cancelWords[strings.ToLower(ev.Command)] {
			return false, nil
		}
	case EventButton:
		if flows.IsSetupAction(ev.Action) {
			return true, nil
		}
		if ev.Action != ActResumeForm {
			return false, nil
		}
	case EventForm:
		return flows.IsSetupForm(ev.FormID), nil
	case EventText:
		if !ev.InDM {
			return false, nil
		}
	default:
		return false, nil
	}
	// Stopping, resuming or answering: only with a setup form open.
	var form string
	err := a.inEvent(ctx, func(tx *store.Tx) error {
		d, _, err := tx.Dialogue(ctx, ev.Platform, ev.Workspace, ev.UserID)
		form = d.Form
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var rf RenderedForm
	if err := json.Unmarshal([]byte(form), &rf); err != nil {
		return false, fmt.Errorf("bot: dialogue form: %w", err)
	}
	return flows.IsSetupForm(rf.ID), nil
}

// setupActor is the person setting a space up: no community and no member yet, in the
// language of the event (English when the platform does not say).
func setupActor(ev Event) flows.Actor {
	return flows.Actor{Platform: ev.Platform, UserID: ev.UserID, Name: ev.UserName, Locale: catalog.Pick(ev.Locale, "en"),
		EventID: ev.ID, Surface: ev.Platform, InDM: ev.InDM, Workspace: ev.Workspace, Channel: ev.ChannelID, PlatformAdmin: ev.PlatformAdmin}
}
