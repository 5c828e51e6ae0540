package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/tend-community/tend/bot"
)

// handleTimeout bounds the handling of one envelope.
const handleTimeout = 10 * time.Second

// maxInFlight bounds the envelopes handled at once; each is one short transaction.
const maxInFlight = 64

// Run receives events over Socket Mode until ctx ends, handing each to h and
// acknowledging every envelope once h has committed it. slack-go reconnects by itself
// when Slack asks (disconnect) or the connection drops; Run returns an error only when
// it cannot connect for good (a revoked or wrong token).
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	if a.cfg.Mode != ModeSocket {
		return errors.New("slack: Run is for socket mode; HTTP mode serves HTTPHandler")
	}
	return a.runSocket(ctx, h, socketmode.New(a.api))
}

func (a *Adapter) runSocket(ctx context.Context, h bot.Handler, sm *socketmode.Client) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sm.RunContext(ctx) }()
	slots := make(chan struct{}, maxInFlight)
	defer a.bg.Wait()
	for {
		select {
		case <-ctx.Done():
			<-done
			return nil
		case err := <-done:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("slack: socket mode: %w", err)
		case evt, ok := <-sm.Events:
			if !ok {
				return nil
			}
			if !a.socketStatus(evt) {
				continue
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				continue
			}
			a.bg.Add(1)
			go func() {
				defer a.bg.Done()
				defer func() { <-slots }()
				a.envelope(ctx, h, sm, evt)
			}()
		}
	}
}

// socketStatus logs the connection's life and reports whether evt is an envelope to
// handle.
func (a *Adapter) socketStatus(evt socketmode.Event) bool {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		a.log.Info("slack: connecting to Socket Mode")
	case socketmode.EventTypeConnected:
		a.log.Info("slack: connected to Socket Mode")
	case socketmode.EventTypeHello:
		n := 0
		if evt.Request != nil {
			n = evt.Request.NumConnections
		}
		a.log.Info("slack: Socket Mode ready", "connections", n)
	case socketmode.EventTypeConnectionError:
		if e, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			a.log.Warn("slack: Socket Mode connection failed; retrying", "attempt", e.Attempt, "backoff", e.Backoff, "err", e.ErrorObj)
		}
	case socketmode.EventTypeInvalidAuth:
		a.log.Error("slack: Socket Mode refused the app-level token")
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
		a.log.Warn("slack: Socket Mode connection error", "type", string(evt.Type))
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeInteractive, socketmode.EventTypeSlashCommand, socketmode.EventTypeErrorBadMessage:
		return true
	}
	return false
}

// envelope handles one Socket Mode envelope: the bot commits it, then it is
// acknowledged (with the answer Slack shows, where there is one), then the follow-up
// work runs. An envelope is acknowledged even when handling failed, so Slack does not
// redeliver an interaction the person already got an answer to.
func (a *Adapter) envelope(ctx context.Context, h bot.Handler, sm *socketmode.Client, evt socketmode.Event) {
	// An envelope being handled when Run is told to stop still gets its transaction
	// and its acknowledgement.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), handleTimeout)
	defer cancel()
	req := evt.Request
	var ans answer
	switch evt.Type {
	case socketmode.EventTypeEventsAPI:
		if req != nil {
			ans = a.onEvents(ctx, h, req.Payload)
		}
	case socketmode.EventTypeSlashCommand:
		if c, ok := evt.Data.(slack.SlashCommand); ok {
			ans = a.onCommand(ctx, h, c)
		}
	case socketmode.EventTypeInteractive:
		if ic, ok := evt.Data.(slack.InteractionCallback); ok {
			ans = a.onInteraction(ctx, h, &ic)
		}
	case socketmode.EventTypeErrorBadMessage:
		// An envelope slack-go could not parse (an event type it does not know): read
		// it with the adapter's own, more lenient parser where it is an event, and
		// acknowledge it so Slack does not send it again.
		req = badEnvelope(evt)
		if req == nil {
			a.log.Warn("slack: unreadable Socket Mode message")
			return
		}
		a.log.Debug("slack: an envelope slack-go could not read", "envelope", req.EnvelopeID, "type", req.Type)
		if req.Type == socketmode.RequestTypeEventsAPI {
			ans = a.onEvents(ctx, h, req.Payload)
		}
	}
	if req == nil || req.EnvelopeID == "" {
		a.log.Warn("slack: socket envelope", "err", errNoEnvelope)
		return
	}
	actx, acancel := context.WithTimeout(ctx, 2*time.Second)
	err := sm.AckCtx(actx, req.EnvelopeID, ans.body)
	acancel()
	if err != nil {
		a.log.Error("slack: acknowledging an envelope failed", "envelope", req.EnvelopeID, "err", err)
	}
	if ans.after != nil {
		fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), followUpTimeout)
		defer fcancel()
		ans.after(fctx)
	}
}

func badEnvelope(evt socketmode.Event) *socketmode.Request {
	bad, ok := evt.Data.(*socketmode.ErrorBadMessage)
	if !ok {
		return nil
	}
	var req socketmode.Request
	if json.Unmarshal(bad.Message, &req) != nil || req.EnvelopeID == "" {
		return nil
	}
	return &req
}
