package slack

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/slack-go/slack"

	"github.com/tend-community/tend/bot"
)

// MaxBodyBytes bounds a request from Slack.
const MaxBodyBytes = 1 << 20

// HTTPHandler serves the HTTP-mode endpoints: POST /slack/events (Events API, with the
// url_verification challenge), /slack/interactivity (buttons, modals, shortcuts) and
// /slack/commands (the slash command). Every request must carry a valid v0 signature
// made with the signing secret less than 5 minutes ago; any other gets 401 and is not
// handled. Each is answered once h has committed it, well inside Slack's 3 seconds;
// follow-up work (posting a reply, opening a modal) runs after the answer. A retried
// event (X-Slack-Retry-Num) carries the same event_id, which the bot's inbox absorbs.
func (a *Adapter) HTTPHandler(h bot.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(PathEvents, a.signed(func(w http.ResponseWriter, r *http.Request, body []byte) {
		var p eventsPayload
		if err := json.Unmarshal(body, &p); err != nil {
			http.Error(w, "the body must be an Events API payload", http.StatusBadRequest)
			return
		}
		if p.Type == "url_verification" {
			writeJSON(w, map[string]string{"challenge": p.Challenge})
			return
		}
		if p.Type == "app_rate_limited" {
			a.log.Warn("slack: Slack is rate limiting this app's events")
		}
		ans := a.onEvents(r.Context(), h, body)
		w.WriteHeader(http.StatusOK)
		a.later(r.Context(), ans.after)
	}))
	mux.Handle(PathInteractivity, a.signed(func(w http.ResponseWriter, r *http.Request, body []byte) {
		form, err := url.ParseQuery(string(body))
		if err != nil || form.Get("payload") == "" {
			http.Error(w, "the body must carry a payload", http.StatusBadRequest)
			return
		}
		var ic slack.InteractionCallback
		if err := json.Unmarshal([]byte(form.Get("payload")), &ic); err != nil {
			http.Error(w, "the payload must be an interaction", http.StatusBadRequest)
			return
		}
		ans := a.onInteraction(r.Context(), h, &ic)
		writeAnswer(w, ans)
		a.later(r.Context(), ans.after)
	}))
	mux.Handle(PathCommands, a.signed(func(w http.ResponseWriter, r *http.Request, body []byte) {
		form, err := url.ParseQuery(string(body))
		if err == nil && form.Get("ssl_check") == "1" {
			w.WriteHeader(http.StatusOK) // Slack checking the certificate: nothing to handle
			return
		}
		if err != nil || form.Get("user_id") == "" {
			http.Error(w, "the body must be a slash command", http.StatusBadRequest)
			return
		}
		c := slack.SlashCommand{
			TeamID: form.Get("team_id"), ChannelID: form.Get("channel_id"), UserID: form.Get("user_id"),
			UserName: form.Get("user_name"), Command: form.Get("command"), Text: form.Get("text"),
			ResponseURL: form.Get("response_url"), TriggerID: form.Get("trigger_id"), APIAppID: form.Get("api_app_id"),
		}
		ans := a.onCommand(r.Context(), h, c)
		writeAnswer(w, ans)
		a.later(r.Context(), ans.after)
	}))
	return mux
}

// signed reads a request's body (bounded) and passes it on only when its signature is
// valid and recent.
func (a *Adapter) signed(next func(http.ResponseWriter, *http.Request, []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "unreadable request", http.StatusBadRequest)
			return
		}
		if err := a.verify(r.Header, body); err != nil {
			a.log.Warn("slack: rejected a request with a bad signature", "path", r.URL.Path, "err", err)
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		next(w, r, body)
	})
}

// verify checks X-Slack-Signature: "v0=" + hex HMAC-SHA256 of "v0:<timestamp>:<body>"
// with the signing secret, compared in constant time, with X-Slack-Request-Timestamp no
// more than 5 minutes away from now.
func (a *Adapter) verify(h http.Header, body []byte) error {
	if a.cfg.SigningSecret == "" {
		return errors.New("no signing secret configured")
	}
	sv, err := slack.NewSecretsVerifier(h, a.cfg.SigningSecret)
	if err != nil {
		return err
	}
	if _, err := sv.Write(body); err != nil {
		return err
	}
	return sv.Ensure()
}

func writeAnswer(w http.ResponseWriter, ans answer) {
	if ans.body == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, ans.body)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
