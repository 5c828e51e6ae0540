package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tend-community/tend/bot"
)

// sign computes Slack's v0 signature of a body at a time.
func sign(secret string, ts time.Time, body string) (timestamp, signature string) {
	timestamp = strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":" + body))
	return timestamp, "v0=" + hex.EncodeToString(mac.Sum(nil))
}

func request(path, contentType, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	return r
}

func signedRequest(path, contentType, body string) *http.Request {
	r := request(path, contentType, body)
	ts, sig := sign(testSecret, time.Now(), body)
	r.Header.Set("X-Slack-Request-Timestamp", ts)
	r.Header.Set("X-Slack-Signature", sig)
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

const imEvent = `{"token":"XXYYZZ","team_id":"T1","api_app_id":"A1","event":{"type":"message","channel":"D024BE91L","user":"U2147483697","text":"Tuesday &amp; Wednesday","ts":"1355517523.000005","event_ts":"1355517523.000005","channel_type":"im"},"type":"event_callback","authed_users":["U0LAN0Z89"],"event_id":"Ev08MFMKH6","event_time":1355517523}`

func TestSignatureIsRequired(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeHTTP, nil)
	rec := &recorder{}
	h := a.HTTPHandler(rec)
	const form = "application/x-www-form-urlencoded"
	body := "team_id=T1&user_id=U1&channel_id=C1&command=%2Ftend&text=help&trigger_id=t1"

	cases := map[string]func() *http.Request{
		"wrong signature": func() *http.Request {
			r := request(PathCommands, form, body)
			ts, _ := sign(testSecret, time.Now(), body)
			_, sig := sign("not-the-secret", time.Now(), body)
			r.Header.Set("X-Slack-Request-Timestamp", ts)
			r.Header.Set("X-Slack-Signature", sig)
			return r
		},
		"signature of another body": func() *http.Request {
			r := request(PathCommands, form, body+"&x=1")
			ts, sig := sign(testSecret, time.Now(), body)
			r.Header.Set("X-Slack-Request-Timestamp", ts)
			r.Header.Set("X-Slack-Signature", sig)
			return r
		},
		"missing signature": func() *http.Request {
			r := request(PathCommands, form, body)
			ts, _ := sign(testSecret, time.Now(), body)
			r.Header.Set("X-Slack-Request-Timestamp", ts)
			return r
		},
		"missing timestamp": func() *http.Request {
			r := request(PathCommands, form, body)
			_, sig := sign(testSecret, time.Now(), body)
			r.Header.Set("X-Slack-Signature", sig)
			return r
		},
		"replayed, 6 minutes old": func() *http.Request {
			r := request(PathCommands, form, body)
			ts, sig := sign(testSecret, time.Now().Add(-6*time.Minute), body)
			r.Header.Set("X-Slack-Request-Timestamp", ts)
			r.Header.Set("X-Slack-Signature", sig)
			return r
		},
		"6 minutes in the future": func() *http.Request {
			r := request(PathCommands, form, body)
			ts, sig := sign(testSecret, time.Now().Add(6*time.Minute), body)
			r.Header.Set("X-Slack-Request-Timestamp", ts)
			r.Header.Set("X-Slack-Signature", sig)
			return r
		},
		"events, unsigned": func() *http.Request { return request(PathEvents, "application/json", imEvent) },
		"interactivity, unsigned": func() *http.Request {
			return request(PathInteractivity, form, "payload="+url.QueryEscape(`{"type":"block_actions"}`))
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			w := serve(h, mk())
			if w.Code != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", w.Code)
			}
		})
	}
	a.bg.Wait()
	if n := len(rec.got()); n != 0 {
		t.Fatalf("the handler was called %d times for rejected requests", n)
	}
	if n := len(f.calls); n != 0 {
		t.Fatalf("rejected requests made %d Web API calls", n)
	}

	// The same request, correctly signed, passes.
	w := serve(h, signedRequest(PathCommands, form, body))
	if w.Code != http.StatusOK || len(rec.got()) != 1 {
		t.Fatalf("signed request: status %d, %d events", w.Code, len(rec.got()))
	}
}

func TestURLVerification(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeHTTP, nil)
	rec := &recorder{}
	body := `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
	w := serve(a.HTTPHandler(rec), signedRequest(PathEvents, "application/json", body))
	var got map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got["challenge"] != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("answer %q (%v)", w.Body.String(), err)
	}
	if len(rec.got()) != 0 {
		t.Error("url_verification is not an event for the bot")
	}
}

func TestRetriedEventReachesTheHandlerWithTheSameID(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeHTTP, nil)
	rec := &recorder{reply: func(ev bot.Event) (bot.Reply, error) {
		return bot.Reply{InDM: true, Messages: []bot.Rendered{card("", "Got it")}}, nil
	}}
	h := a.HTTPHandler(rec)
	for i := range 2 {
		r := signedRequest(PathEvents, "application/json", imEvent)
		if i == 1 {
			r.Header.Set("X-Slack-Retry-Num", "1")
			r.Header.Set("X-Slack-Retry-Reason", "http_timeout")
		}
		if w := serve(h, r); w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
	}
	a.bg.Wait()
	evs := rec.got()
	if len(evs) != 2 || evs[0].ID != "Ev08MFMKH6" || evs[1].ID != evs[0].ID {
		t.Fatalf("events %+v", evs)
	}
	ev := evs[0]
	if ev.Kind != bot.EventText || ev.Text != "Tuesday & Wednesday" || !ev.InDM || ev.UserID != "U2147483697" ||
		ev.Workspace != "T1" || ev.ChannelID != "D024BE91L" || ev.Platform != Platform {
		t.Errorf("event %+v", ev)
	}
	posts := f.callsTo("chat.postMessage")
	if len(posts) != 2 || posts[0].Form.Get("channel") != "D024BE91L" {
		t.Fatalf("reply posts %+v", posts)
	}
	if len(f.callsTo("conversations.open")) != 0 {
		t.Error("the DM the person wrote in needs no conversations.open")
	}
}

func TestBotMessagesAndEditsAreIgnored(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeHTTP, nil)
	rec := &recorder{}
	h := a.HTTPHandler(rec)
	for _, body := range []string{
		`{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"message","channel":"D1","bot_id":"B1","text":"hi","ts":"1.1","channel_type":"im"}}`,
		`{"type":"event_callback","team_id":"T1","event_id":"Ev2","event":{"type":"message","subtype":"message_changed","channel":"D1","ts":"1.2","channel_type":"im"}}`,
		`{"type":"event_callback","team_id":"T1","event_id":"Ev3","event":{"type":"reaction_added","user":"U1"}}`,
	} {
		if w := serve(h, signedRequest(PathEvents, "application/json", body)); w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
	}
	a.bg.Wait()
	if n := len(rec.got()); n != 0 {
		t.Fatalf("%d events reached the bot", n)
	}
}

func TestSlashCommandAnswersEphemerally(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeHTTP, nil)
	rec := &recorder{reply: func(ev bot.Event) (bot.Reply, error) {
		return bot.Reply{Messages: []bot.Rendered{{Title: "How tend works", Body: []string{"Type /tend ask <!channel>"}}}}, nil
	}}
	body := url.Values{"token": {"gIkuvaNzQIHg97ATvDxqgjtO"}, "team_id": {"T1"}, "team_domain": {"care"}, "channel_id": {"C2147483705"},
		"channel_name": {"general"}, "user_id": {"U2147483697"}, "user_name": {"alice"}, "command": {"/tend"}, "text": {"volunteer  pause"},
		"api_app_id": {"A1"}, "response_url": {f.responseURL("c1")}, "trigger_id": {"13345224609.738474920.8088930838d88f008e0"}}.Encode()
	w := serve(a.HTTPHandler(rec), signedRequest(PathCommands, "application/x-www-form-urlencoded", body))
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, type %q", w.Code, w.Header().Get("Content-Type"))
	}
	var resp struct {
		ResponseType string           `json:"response_type"`
		Text         string           `json:"text"`
		Blocks       []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if resp.ResponseType != "ephemeral" || !strings.HasPrefix(resp.Text, "How tend works\nType /tend ask &lt;") || strings.Contains(resp.Text, "<") || len(resp.Blocks) != 2 {
		t.Errorf("answer %s", w.Body.String())
	}
	a.bg.Wait()
	evs := rec.got()
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	ev := evs[0]
	if ev.ID != "cmd:13345224609.738474920.8088930838d88f008e0" || ev.Kind != bot.EventCommand || ev.Command != "volunteer" ||
		len(ev.Args) != 1 || ev.Args[0] != "pause" || ev.UserName != "alice" || ev.InDM || ev.ChannelID != "C2147483705" {
		t.Errorf("event %+v", ev)
	}
	if n := len(f.callsBut("users.info")); n != 0 {
		t.Errorf("an inline answer needs no Web API call, made %d", n)
	}

	// "/tend" alone is help.
	body2 := url.Values{"team_id": {"T1"}, "channel_id": {"D1"}, "user_id": {"U1"}, "command": {"/tend"}, "text": {""}, "trigger_id": {"t2"}}.Encode()
	serve(a.HTTPHandler(rec), signedRequest(PathCommands, "application/x-www-form-urlencoded", body2))
	if evs := rec.got(); evs[1].Command != "help" || !evs[1].InDM {
		t.Errorf("bare command %+v", evs[1])
	}
}

func TestCommandWithAFormOpensAModal(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeHTTP, nil)
	rec := &recorder{reply: func(ev bot.Event) (bot.Reply, error) {
		form := askForm()
		return bot.Reply{Form: &form}, nil
	}}
	body := url.Values{"team_id": {"T1"}, "channel_id": {"C1"}, "user_id": {"U1"}, "command": {"/tend"}, "text": {"ask"}, "trigger_id": {"trig-ask"}}.Encode()
	w := serve(a.HTTPHandler(rec), signedRequest(PathCommands, "application/x-www-form-urlencoded", body))
	if w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Fatalf("status %d body %q: a form needs an empty acknowledgement", w.Code, w.Body.String())
	}
	a.bg.Wait()
	opens := f.callsTo("views.open")
	if len(opens) != 1 || opens[0].JSON["trigger_id"] != "trig-ask" {
		t.Fatalf("views.open %+v", opens)
	}
	view := opens[0].JSON["view"].(map[string]any)
	if view["callback_id"] != "ask" || !strings.Contains(view["private_metadata"].(string), `"c":"C1"`) {
		t.Errorf("view %v", view)
	}
	if !strings.HasPrefix(opens[0].Auth, "Bearer xoxb-") {
		t.Errorf("views.open auth %q", opens[0].Auth)
	}
}

func interaction(payload string) string { return url.Values{"payload": {payload}}.Encode() }

func TestViewSubmissionWithFieldErrors(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeHTTP, nil)
	rec := &recorder{reply: func(ev bot.Event) (bot.Reply, error) {
		return bot.Reply{FieldErrors: map[string]string{"when": "That time has already passed."},
			Messages: []bot.Rendered{card("A few answers need another look:")}}, nil
	}}
	payload := `{"type":"view_submission","team":{"id":"T1","domain":"care"},"user":{"id":"U1","username":"alice","name":"alice","team_id":"T1"},
	"api_app_id":"A1","token":"x","trigger_id":"trig-9",
	"view":{"id":"V9","team_id":"T1","type":"modal","callback_id":"join","private_metadata":"{\"p\":\"77\",\"c\":\"C1\"}","hash":"h1",
	"state":{"values":{"when":{"when":{"type":"plain_text_input","value":"yesterday"}},"share":{"share":{"type":"static_select","selected_option":{"text":{"type":"plain_text","text":"No"},"value":"no"}}}}}}}`
	w := serve(a.HTTPHandler(rec), signedRequest(PathInteractivity, "application/x-www-form-urlencoded", interaction(payload)))
	var resp struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatalf("answer %q: %v", w.Body.String(), err)
	}
	if resp.ResponseAction != "errors" || resp.Errors["when"] != "That time has already passed." {
		t.Errorf("answer %s", w.Body.String())
	}
	a.bg.Wait()
	ev := rec.got()[0]
	if ev.Kind != bot.EventForm || ev.FormID != "join" || ev.FormPayload != "77" || ev.ChannelID != "C1" ||
		ev.Values["when"] != "yesterday" || ev.Values["share"] != "no" || !strings.HasPrefix(ev.ID, "view:V9:h1:") {
		t.Errorf("event %+v", ev)
	}
	if n := len(f.callsBut("users.info")); n != 0 {
		t.Errorf("errors shown in the modal need no Web API call, made %d", n)
	}
}

func TestViewSubmissionAcceptedRepliesInDM(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeHTTP, nil)
	rec := &recorder{reply: func(ev bot.Event) (bot.Reply, error) {
		return bot.Reply{Messages: []bot.Rendered{card("", "Your request is on the board.")}}, nil
	}}
	payload := `{"type":"view_submission","team":{"id":"T1"},"user":{"id":"U1","team_id":"T1"},"trigger_id":"t",
	"view":{"id":"V1","type":"modal","callback_id":"ask","private_metadata":"{\"c\":\"C1\"}","hash":"h","state":{"values":{}}}}`
	w := serve(a.HTTPHandler(rec), signedRequest(PathInteractivity, "application/x-www-form-urlencoded", interaction(payload)))
	if w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Fatalf("status %d body %q: the modal closes with an empty answer", w.Code, w.Body.String())
	}
	a.bg.Wait()
	posts := f.callsTo("chat.postMessage")
	if len(posts) != 1 || posts[0].Form.Get("channel") != "DU1" {
		t.Fatalf("posts %+v", posts)
	}
}

const blockActions = `{"type":"block_actions","user":{"id":"U1","username":"alice","name":"alice","team_id":"T1"},"api_app_id":"A1","token":"x",
"container":{"type":"message","message_ts":"1700000000.000200","channel_id":"C1","is_ephemeral":false},
"trigger_id":"trig-2","team":{"id":"T1","domain":"care"},"channel":{"id":"C1","name":"board"},
"message":{"type":"message","ts":"1700000000.000200","text":"A ride"},"response_url":"RESPONSE_URL",
"actions":[{"action_id":"claim#2","block_id":"b1","text":{"type":"plain_text","text":"I can help","emoji":true},"value":"12","type":"button","action_ts":"1700000001.000300"}],
"state":{"values":{}}}`

func TestButtonPressRepliesEphemerallyAndOpensForms(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeHTTP, nil)
	rec := &recorder{reply: func(ev bot.Event) (bot.Reply, error) {
		form := askForm()
		return bot.Reply{Messages: []bot.Rendered{card("", "Thank you! Alice has been asked.")}, Form: &form}, nil
	}}
	payload := strings.Replace(blockActions, "RESPONSE_URL", f.responseURL("b1"), 1)
	w := serve(a.HTTPHandler(rec), signedRequest(PathInteractivity, "application/x-www-form-urlencoded", interaction(payload)))
	if w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Fatalf("status %d body %q", w.Code, w.Body.String())
	}
	a.bg.Wait()
	ev := rec.got()[0]
	if ev.ID != "act:trig-2:1700000001.000300" || ev.Kind != bot.EventButton || ev.Action != "claim" || ev.Payload != "12" ||
		ev.ChannelID != "C1" || ev.InDM || ev.MessageID != "1700000000.000200" || ev.UserName != "alice" || ev.Workspace != "T1" {
		t.Errorf("event %+v", ev)
	}
	eph := f.callsTo("chat.postEphemeral")
	if len(eph) != 1 || eph[0].Form.Get("channel") != "C1" || eph[0].Form.Get("user") != "U1" {
		t.Fatalf("ephemeral %+v", eph)
	}
	if opens := f.callsTo("views.open"); len(opens) != 1 || opens[0].JSON["trigger_id"] != "trig-2" {
		t.Fatalf("views.open %+v", opens)
	}
}

func TestEphemeralFallsBackToResponseURL(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeHTTP, nil)
	f.on("chat.postEphemeral", slackError("not_in_channel"))
	rec := &recorder{reply: func(ev bot.Event) (bot.Reply, error) {
		return bot.Reply{Messages: []bot.Rendered{card("", "Only you can see this")}}, nil
	}}
	payload := strings.Replace(blockActions, "RESPONSE_URL", f.responseURL("b2"), 1)
	serve(a.HTTPHandler(rec), signedRequest(PathInteractivity, "application/x-www-form-urlencoded", interaction(payload)))
	a.bg.Wait()
	rs := f.callsTo("response_url")
	if len(rs) != 1 || rs[0].JSON["response_type"] != "ephemeral" || rs[0].JSON["replace_original"] == true {
		t.Fatalf("response_url posts %+v", rs)
	}
	if len(f.callsTo("chat.postMessage")) != 0 {
		t.Error("nothing should go to the DM when the response_url worked")
	}
}

func TestMenuPickCarriesTheValue(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeHTTP, nil)
	rec := &recorder{}
	payload := `{"type":"block_actions","user":{"id":"U1","team_id":"T1"},"team":{"id":"T1"},"trigger_id":"trig-3",
	"container":{"type":"message","message_ts":"1.2","channel_id":"D9","is_ephemeral":false},"channel":{"id":"D9"},
	"actions":[{"type":"static_select","action_id":"pick","block_id":"b","selected_option":{"text":{"type":"plain_text","text":"Tue"},"value":"2"},"action_ts":"1.3"}]}`
	serve(a.HTTPHandler(rec), signedRequest(PathInteractivity, "application/x-www-form-urlencoded", interaction(payload)))
	a.bg.Wait()
	ev := rec.got()[0]
	if ev.Action != "pick" || ev.Value != "2" || ev.Payload != "" || !ev.InDM {
		t.Errorf("event %+v", ev)
	}
}

func TestAppHomeAskButtonAndPublish(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeHTTP, nil)
	rec := &recorder{reply: func(ev bot.Event) (bot.Reply, error) {
		return bot.Reply{InDM: ev.InDM, Messages: []bot.Rendered{card("", "Please read our privacy notice first.")}}, nil
	}}
	h := a.HTTPHandler(rec)
	opened := `{"type":"event_callback","team_id":"T1","api_app_id":"A1","event_id":"Ev9","event_time":1,
	"event":{"type":"app_home_opened","user":"U1","channel":"D1","tab":"home","event_ts":"1.1"}}`
	serve(h, signedRequest(PathEvents, "application/json", opened))
	a.bg.Wait()
	pubs := f.callsTo("views.publish")
	if len(pubs) != 1 || pubs[0].JSON["user_id"] != "U1" {
		t.Fatalf("views.publish %+v", pubs)
	}
	if len(rec.got()) != 0 {
		t.Error("opening the App Home is not an event for the bot")
	}
	// Opened again with the same version: nothing to publish.
	again := strings.Replace(opened, `"tab":"home"`, `"tab":"home","view":{"id":"V1","type":"home","callback_id":"tend.home","private_metadata":"1:en"}`, 1)
	serve(h, signedRequest(PathEvents, "application/json", again))
	a.bg.Wait()
	if n := len(f.callsTo("views.publish")); n != 1 {
		t.Errorf("published %d times", n)
	}

	press := `{"type":"block_actions","user":{"id":"U1","username":"alice","team_id":"T1"},"team":{"id":"T1"},"trigger_id":"trig-home",
	"container":{"type":"view","view_id":"V1"},"view":{"id":"V1","type":"home","callback_id":"tend.home"},
	"actions":[{"type":"button","action_id":"ask","block_id":"home_actions","action_ts":"2.2"}]}`
	serve(h, signedRequest(PathInteractivity, "application/x-www-form-urlencoded", interaction(press)))
	a.bg.Wait()
	ev := rec.got()[0]
	if ev.Action != "ask" || !ev.InDM || ev.ChannelID != "" {
		t.Errorf("event %+v", ev)
	}
	if posts := f.callsTo("chat.postMessage"); len(posts) != 1 || posts[0].Form.Get("channel") != "DU1" {
		t.Errorf("reply went to %+v, want the DM", posts)
	}
}

func TestAskShortcutPrefillsPrivately(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeHTTP, nil)
	rec := &recorder{reply: func(ev bot.Event) (bot.Reply, error) {
		form := askForm()
		return bot.Reply{Form: &form}, nil
	}}
	payload := `{"type":"message_action","token":"x","action_ts":"1700000002.000400","team":{"id":"T1","domain":"care"},
	"user":{"id":"U1","name":"alice"},"channel":{"id":"C1","name":"general"},"callback_id":"ask_with_this","trigger_id":"trig-5",
	"message_ts":"1700000000.000500","message":{"type":"message","user":"U2","ts":"1700000000.000500","text":"Could someone drive Anna to the clinic &amp; back? <!channel>"},
	"response_url":"https://hooks.slack.com/app/T1/2/def"}`
	w := serve(a.HTTPHandler(rec), signedRequest(PathInteractivity, "application/x-www-form-urlencoded", interaction(payload)))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	a.bg.Wait()
	ev := rec.got()[0]
	if ev.ID != "shortcut:trig-5" || ev.Kind != bot.EventCommand || ev.Command != "ask" || len(ev.Args) != 0 || ev.Text != "" || len(ev.Values) != 0 {
		t.Errorf("event %+v: the message text must not travel with the event", ev)
	}
	opens := f.callsTo("views.open")
	if len(opens) != 1 {
		t.Fatalf("views.open %+v", opens)
	}
	raw, _ := json.Marshal(opens[0].JSON)
	if !strings.Contains(string(raw), "clinic \\u0026 back") && !strings.Contains(string(raw), "clinic & back") {
		t.Errorf("summary not prefilled: %s", raw)
	}
	if strings.Contains(string(raw), "<!channel>") || strings.Contains(string(raw), `\u003c!channel`) {
		t.Errorf("mention survived the prefill: %s", raw)
	}
	for _, m := range []string{"chat.postMessage", "chat.postEphemeral", "response_url"} {
		if n := len(f.callsTo(m)); n != 0 {
			t.Errorf("%s called %d times: the message text goes nowhere else", m, n)
		}
	}
}

func TestHandlerErrorStillAnswersCalmly(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeHTTP, nil)
	rec := &recorder{reply: func(ev bot.Event) (bot.Reply, error) {
		return bot.Reply{Messages: []bot.Rendered{card("", "Sorry, I can't reach my notes right now.")}}, errors.New("database unavailable")
	}}
	body := url.Values{"team_id": {"T1"}, "channel_id": {"C1"}, "user_id": {"U1"}, "command": {"/tend"}, "text": {"mine"}, "trigger_id": {"t"}}.Encode()
	w := serve(a.HTTPHandler(rec), signedRequest(PathCommands, "application/x-www-form-urlencoded", body))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "notes right now") {
		t.Fatalf("status %d body %q", w.Code, w.Body.String())
	}
}

func TestOversizedAndWrongMethod(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeHTTP, nil)
	rec := &recorder{}
	h := a.HTTPHandler(rec)
	big := strings.Repeat("x", MaxBodyBytes+1)
	if w := serve(h, signedRequest(PathEvents, "application/json", big)); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized: %d", w.Code)
	}
	if w := serve(h, httptest.NewRequest(http.MethodGet, PathEvents, nil)); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", w.Code)
	}
	if len(rec.got()) != 0 {
		t.Error("handler called")
	}
}

func TestSSLCheckIsAnswered(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, ModeHTTP, nil)
	rec := &recorder{}
	w := serve(a.HTTPHandler(rec), signedRequest(PathCommands, "application/x-www-form-urlencoded", "ssl_check=1&token=x"))
	if w.Code != http.StatusOK || len(rec.got()) != 0 {
		t.Errorf("ssl_check: %d, %d events", w.Code, len(rec.got()))
	}
}
