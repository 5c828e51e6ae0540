package mattermost

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mattermost/mattermost/server/public/model"

	"github.com/tend-community/tend/bot"
)

// MaxBodyBytes bounds a request from Mattermost.
const MaxBodyBytes = 1 << 20

// HTTPHandler serves what Mattermost calls on tend's HTTP listener: POST
// /mattermost/command (the /tend slash command, form-encoded, carrying the command's
// token in the "token" field and the "Authorization: Token …" header), /mattermost/action
// (a button press or a menu pick, JSON, with the signed context tend gave the button)
// and /mattermost/dialog (a submitted dialog, JSON, with its signed state). A request
// with a wrong or missing token, or an unsigned, forged or misplaced context or state,
// gets 401 and is not handled. Each is answered once the bot has committed it and its
// replies are posted.
func (a *Adapter) HTTPHandler(h bot.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(PathCommand, a.body(func(w http.ResponseWriter, r *http.Request, body []byte) {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "the body must be a slash command form", http.StatusBadRequest)
			return
		}
		ok := a.tokenOK(r.Header.Get("Authorization"), form.Get("token"))
		if !ok && a.relearn(r.Context(), form.Get("team_id")) {
			// The command may have been registered since start: read its token again.
			ok = a.tokenOK(r.Header.Get("Authorization"), form.Get("token"))
		}
		if !ok {
			a.log.Warn("mattermost: rejected a slash command with a wrong or missing token")
			http.Error(w, "invalid token", http.StatusUnauthorized)
			return
		}
		if form.Get("user_id") == "" {
			http.Error(w, "the body must be a slash command", http.StatusBadRequest)
			return
		}
		writeJSON(w, commandResponse(a.onCommand(r.Context(), h, form)))
	}))
	mux.Handle(PathAction, a.body(func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req model.PostActionIntegrationRequest
		if err := json.Unmarshal(body, &req); err != nil || req.UserId == "" {
			http.Error(w, "the body must be an action request", http.StatusBadRequest)
			return
		}
		x, err := a.sign.readContext(req.Context)
		if err == nil {
			err = a.bound(r.Context(), x.ref, req)
		}
		if err != nil {
			if errors.Is(err, errUnsigned) || errors.Is(err, errElsewhere) {
				a.log.Warn("mattermost: rejected an action", "post", req.PostId, "err", err)
				http.Error(w, "invalid context", http.StatusUnauthorized)
				return
			}
			a.log.Warn("mattermost: could not check an action's post", "post", req.PostId, "err", err)
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, actionResponse(a.onAction(r.Context(), h, req, x)))
	}))
	mux.Handle(PathDialog, a.body(func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req model.SubmitDialogRequest
		if err := json.Unmarshal(body, &req); err != nil || req.UserId == "" {
			http.Error(w, "the body must be a dialog submission", http.StatusBadRequest)
			return
		}
		st, err := a.sign.decodeState(req.State)
		if err != nil || st.User != req.UserId || st.Form != req.CallbackId {
			a.log.Warn("mattermost: rejected a dialog submission with a bad state", "user", req.UserId)
			http.Error(w, "invalid state", http.StatusUnauthorized)
			return
		}
		if req.Cancelled {
			writeJSON(w, map[string]any{})
			return
		}
		writeJSON(w, a.onDialog(r.Context(), h, req, st))
	}))
	return mux
}

// body reads a POST request's body, bounded, and passes it on.
func (a *Adapter) body(next func(http.ResponseWriter, *http.Request, []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "unreadable request", http.StatusBadRequest)
			return
		}
		next(w, r, b)
	})
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

// acceptToken adds a slash command token to those accepted.
func (a *Adapter) acceptToken(tok string) {
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return
	}
	sum := sha256.Sum256([]byte(tok))
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.tokens {
		if t == sum {
			return
		}
	}
	a.tokens = append(a.tokens, sum)
}

// tokenOK checks a slash command's token: it must be given (in the Authorization header
// as "Token …", in the form, or both) and every copy given must be a known token. The
// digests are compared in constant time, every known token each time.
func (a *Adapter) tokenOK(header, field string) bool {
	var given []string
	if header != "" {
		tok, ok := strings.CutPrefix(header, "Token ")
		if !ok {
			return false
		}
		given = append(given, tok)
	}
	if field != "" {
		given = append(given, field)
	}
	if len(given) == 0 {
		return false
	}
	a.mu.Lock()
	known := a.tokens
	a.mu.Unlock()
	ok := true
	for _, g := range given {
		sum := sha256.Sum256([]byte(strings.TrimSpace(g)))
		match := 0
		for _, k := range known {
			match |= subtle.ConstantTimeCompare(sum[:], k[:])
		}
		ok = ok && match == 1
	}
	return ok
}

// relearnEvery bounds how often a refused token makes the adapter read the commands again.
const relearnEvery = 30 * time.Second

// relearn reads the team's /tend command tokens again, at most every relearnEvery; it
// reports whether it did.
func (a *Adapter) relearn(ctx context.Context, team string) bool {
	if !model.IsValidId(team) {
		return false
	}
	a.mu.Lock()
	if time.Since(a.learned) < relearnEvery {
		a.mu.Unlock()
		return false
	}
	a.learned = time.Now()
	a.mu.Unlock()
	_, err := a.LearnCommandTokens(ctx, []string{team})
	return err == nil
}

var errElsewhere = errors.New("context signed for another post")

// bound checks that a context's reference belongs to the post it came with (or, for a
// post shown to one person, to that person in that channel): errElsewhere when it does
// not, another error when the server could not say.
func (a *Adapter) bound(ctx context.Context, ref string, req model.PostActionIntegrationRequest) error {
	postID := req.PostId
	if postID == "" {
		return errElsewhere
	}
	if rest, ok := strings.CutPrefix(ref, "u:"); ok {
		if rest != req.UserId+":"+req.ChannelId {
			return errElsewhere
		}
		return nil
	}
	if id, ok := strings.CutPrefix(ref, "p:"); ok {
		if id != postID {
			return errElsewhere
		}
		return nil
	}
	if !strings.HasPrefix(ref, "k:") {
		return errElsewhere
	}
	a.mu.Lock()
	known, ok := a.refs[ref]
	a.mu.Unlock()
	if ok {
		if known != postID {
			return errElsewhere
		}
		return nil
	}
	p, resp, err := a.api.GetPost(ctx, postID, "")
	if err != nil {
		err = apiError("GET /posts/{id}", resp, err)
		if s := status(err); s == http.StatusNotFound || s == http.StatusForbidden {
			return errElsewhere
		}
		return err
	}
	if got, _ := p.GetProp(propRef).(string); got != ref {
		return errElsewhere
	}
	a.bind(ref, postID)
	return nil
}
