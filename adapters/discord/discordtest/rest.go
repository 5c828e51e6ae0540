package discordtest

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// resp is a REST answer, built under the handlers and written by serveREST
// after the call has been recorded.
type resp struct {
	status int
	body   any // nil for no body
	header map[string]string
}

// apiError is a Discord JSON error answer.
type apiError struct {
	status  int
	code    int
	message string
	errors  map[string]any
	detail  string // the errors, flattened, for Problems
}

func (e *apiError) resp() resp {
	b := map[string]any{"message": e.message, "code": e.code}
	if len(e.errors) > 0 {
		b["errors"] = e.errors
	}
	return resp{status: e.status, body: b}
}

func (e *apiError) describe() string {
	if e.detail == "" {
		return e.message
	}
	return e.message + ": " + e.detail
}

func errResp(status, code int, message string) resp {
	return (&apiError{status: status, code: code, message: message}).resp()
}

func ok(body any) resp { return resp{status: http.StatusOK, body: body} }

func noContent() resp { return resp{status: http.StatusNoContent} }

var (
	errNotFound     = &apiError{status: 404, code: 0, message: "404: Not Found"}
	errUnknownMsg   = &apiError{status: 404, code: 10008, message: "Unknown Message"}
	errUnknownHook  = &apiError{status: 404, code: 10015, message: "Unknown Webhook"}
	errUnknownInter = &apiError{status: 404, code: 10062, message: "Unknown interaction"}
	errAcked        = &apiError{status: 400, code: 40060, message: "Interaction has already been acknowledged."}
)

// fault is an injected failure.
type fault struct {
	method, prefix string
	times          int
	status, code   int
	message        string
	rateLimit      bool
	retryAfter     float64
	global         bool
}

// RateLimit makes the next `times` requests matching method ("" for any) and
// pathPrefix (with or without "/api/v10", e.g. "/channels/") fail with 429
// {"message":"You are being rate limited.","retry_after":<s>,"global":<g>}
// and the headers Retry-After (whole seconds, rounded up), X-RateLimit-Scope
// ("user" or "global"), X-RateLimit-Global (when global) and
// X-RateLimit-Bucket.
//
// discordgo reads the rate limit headers of every response (429s included)
// before it looks at the status: X-RateLimit-Remaining and
// X-RateLimit-Reset-After set the bucket's reset, and with X-RateLimit-Global
// the reset applies to every bucket. It never reads Retry-After. With
// Session.ShouldRetryOnRateLimit false a 429 returns *discordgo.RateLimitError
// (RetryAfter parsed from the body) without sleeping; the bucket is released,
// and since these 429s carry no X-RateLimit-Reset-After (unless
// Options.RealisticRateLimitHeaders) the next request in the bucket does not
// wait either. With ShouldRetryOnRateLimit true discordgo sleeps retry_after
// and retries, holding the bucket.
func (s *Server) RateLimit(method, pathPrefix string, retryAfter float64, global bool, times int) {
	if times <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{method: method, prefix: normalizePrefix(pathPrefix), times: times,
		status: 429, rateLimit: true, retryAfter: retryAfter, global: global})
}

// FailNext makes the next request matching method ("" for any) and
// pathPrefix fail once with status and {"message":message,"code":code}.
func (s *Server) FailNext(method, pathPrefix string, status int, code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{method: method, prefix: normalizePrefix(pathPrefix), times: 1,
		status: status, code: code, message: message})
}

func normalizePrefix(p string) string {
	p = strings.TrimPrefix(p, "https://discord.com")
	if _, rest := trimAPI(p); rest != p {
		p = rest
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

func (s *Server) takeFaultLocked(method, path string) *fault {
	for i, f := range s.faults {
		if (f.method == "" || strings.EqualFold(f.method, method)) && strings.HasPrefix(path, f.prefix) {
			f.times--
			if f.times <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return f
		}
	}
	return nil
}

func (f *fault) resp(bucket string, realistic bool) resp {
	if !f.rateLimit {
		return errResp(f.status, f.code, f.message)
	}
	h := map[string]string{
		"Retry-After":        strconv.Itoa(int(math.Ceil(f.retryAfter))),
		"X-RateLimit-Scope":  "user",
		"X-RateLimit-Bucket": bucket,
	}
	if f.global {
		h["X-RateLimit-Scope"] = "global"
		h["X-RateLimit-Global"] = "true"
	}
	if realistic {
		h["X-RateLimit-Limit"] = "5"
		h["X-RateLimit-Remaining"] = "0"
		h["X-RateLimit-Reset-After"] = strconv.FormatFloat(f.retryAfter, 'f', 3, 64)
	}
	return resp{status: 429, header: h, body: map[string]any{
		"message": "You are being rate limited.", "retry_after": f.retryAfter, "global": f.global,
	}}
}

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	_, path := trimAPI(r.URL.Path)
	bucket := bucketOf(r.Method, path)
	res := s.route(r, body, bucket)

	var out []byte
	if res.body != nil {
		out, _ = json.Marshal(res.body)
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body, Status: res.status})
	s.mu.Unlock()

	h := w.Header()
	if res.status != 429 {
		// Generous limits with an immediate reset, so discordgo never waits.
		h.Set("X-RateLimit-Limit", "5")
		h.Set("X-RateLimit-Remaining", "4")
		reset := float64(time.Now().Add(time.Millisecond).UnixMilli()) / 1000
		h.Set("X-RateLimit-Reset", strconv.FormatFloat(reset, 'f', 3, 64))
		h.Set("X-RateLimit-Reset-After", "0.001")
		h.Set("X-RateLimit-Bucket", bucket)
	}
	for k, v := range res.header {
		h.Set(k, v)
	}
	if out != nil {
		h.Set("Content-Type", "application/json")
	}
	w.WriteHeader(res.status)
	_, _ = w.Write(out)
}

// bucketOf is a stable fake bucket hash for a route (major parameter kept).
func bucketOf(method, path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) > 2 {
		segs = segs[:2]
	}
	h := fnv.New64a()
	h.Write([]byte(method + " " + strings.Join(segs, "/")))
	return strconv.FormatUint(h.Sum64(), 16)
}

func (s *Server) route(r *http.Request, body []byte, bucket string) resp {
	version, path := trimAPI(r.URL.Path)
	segs := strings.Split(strings.Trim(path, "/"), "/")
	m := r.Method
	if version == "" {
		s.problem("%s %s: not an API path", m, r.URL.Path)
		return errNotFound.resp()
	}
	s.checkUserAgent(r.Header.Get("User-Agent"))

	s.mu.Lock()
	f := s.takeFaultLocked(m, path)
	s.mu.Unlock()
	if f != nil {
		return f.resp(bucket, s.opts.RealisticRateLimitHeaders)
	}

	if segs[0] == "gateway" && m == http.MethodGet && (version == "9" || version == "10") {
		switch {
		case len(segs) == 1:
			return ok(map[string]any{"url": s.GatewayURL()})
		case len(segs) == 2 && segs[1] == "bot":
			if !s.authorized(r) {
				return errResp(401, 0, "401: Unauthorized")
			}
			return ok(map[string]any{"url": s.GatewayURL(), "shards": 1, "session_start_limit": map[string]any{
				"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})
		}
	}
	if version != "10" {
		s.problem("%s %s: the fake serves API v10 only (v9 only for GET /gateway and /gateway/bot)", m, r.URL.Path)
		return errNotFound.resp()
	}

	// Interaction callbacks and interaction webhooks authenticate by their
	// token, not the bot token.
	tokenAuth := segs[0] == "interactions" || (segs[0] == "webhooks" && len(segs) >= 3)
	if !tokenAuth && !s.authorized(r) {
		return errResp(401, 0, "401: Unauthorized")
	}

	var payload any
	if len(bytes.TrimSpace(body)) > 0 {
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
			s.problem("%s %s: body sent with Content-Type %q, want application/json", m, path, r.Header.Get("Content-Type"))
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&payload); err != nil {
			s.problem("%s %s: invalid JSON body: %v", m, path, err)
			return errResp(400, 50109, "The request body contains invalid JSON.")
		}
	}
	return s.dispatchRoute(m, path, segs, payload, r)
}

func (s *Server) dispatchRoute(m, path string, segs []string, payload any, r *http.Request) resp {
	n := len(segs)
	is := func(method string, parts ...string) bool {
		if m != method || n != len(parts) {
			return false
		}
		for i, p := range parts {
			if p != "*" && p != segs[i] {
				return false
			}
		}
		return true
	}
	switch {
	case is("GET", "users", "@me"):
		return ok(s.botUserJSON())
	case is("POST", "users", "@me", "channels"):
		return s.createDM(payload)
	case is("GET", "applications", "@me"):
		return ok(map[string]any{"id": s.opts.AppID, "name": "tend", "description": "", "icon": nil,
			"bot_public": false, "bot_require_code_grant": false, "flags": 0, "verify_key": "", "bot": s.botUserJSON()})
	case is("POST", "channels", "*", "messages"):
		return s.createChannelMessage(segs[1], payload)
	case is("GET", "channels", "*", "messages", "*"):
		return s.getChannelMessage(segs[1], segs[3])
	case is("PATCH", "channels", "*", "messages", "*"):
		return s.editChannelMessage(segs[1], segs[3], payload)
	case is("DELETE", "channels", "*", "messages", "*"):
		return s.deleteChannelMessage(segs[1], segs[3])
	case is("POST", "interactions", "*", "*", "callback"):
		return s.interactionCallback(segs[1], segs[2], payload, r.URL.Query().Get("with_response") == "true")
	case is("POST", "webhooks", "*", "*"):
		return s.followup(segs[1], segs[2], payload)
	case n == 5 && segs[0] == "webhooks" && segs[3] == "messages" && (m == "GET" || m == "PATCH" || m == "DELETE"):
		return s.webhookMessage(m, segs[1], segs[2], segs[4], payload)
	case is("GET", "guilds", "*", "members", "*"):
		return s.getMember(segs[1], segs[3])
	case (m == "GET" || m == "PUT") && (is(m, "applications", "*", "commands") || is(m, "applications", "*", "guilds", "*", "commands")):
		guild := ""
		if n == 5 {
			guild = segs[3]
		}
		if segs[1] != s.opts.AppID {
			s.problem("%s %s: application id %s is not the bot's (%s)", m, path, segs[1], s.opts.AppID)
			return errResp(403, 50001, "Missing Access")
		}
		if m == "GET" {
			return s.getCommands(guild)
		}
		return s.putCommands(guild, payload)
	}
	s.problem("%s /api/v10%s: route not implemented by the fake (or not a Discord route)", m, path)
	return errNotFound.resp()
}

func (s *Server) authorized(r *http.Request) bool {
	got := r.Header.Get("Authorization")
	if s.opts.Token == "" {
		return strings.HasPrefix(got, "Bot ") && len(got) > len("Bot ")
	}
	return got == "Bot "+s.opts.Token
}

func (s *Server) checkUserAgent(ua string) {
	if strings.HasPrefix(ua, "DiscordBot (") {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.uaWarned {
		s.uaWarned = true
		s.problemLocked("User-Agent %q: Discord wants \"DiscordBot ($url, $version)\"", ua)
	}
}

// JSON helpers over payloads decoded with UseNumber.

func num(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, true
		}
		if f, err := x.Float64(); err == nil {
			return int64(f), true
		}
	case float64:
		return int64(x), true
	case int:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

func strOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return ""
}

func objOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func arrOf(v any) []any {
	a, _ := v.([]any)
	return a
}

// clone deep-copies a JSON value.
func clone(v any) any {
	b, _ := json.Marshal(v)
	var out any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	_ = dec.Decode(&out)
	return out
}
