package mattermost

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mattermost/mattermost/server/public/model"

	"github.com/tend-community/tend/bot"
)

// ErrUnauthorized is the server refusing the bot's token: serve stops rather than
// retry with it forever.
var ErrUnauthorized = errors.New("mattermost: the server refused the bot's access token (TEND_MATTERMOST_TOKEN)")

// Run keeps the websocket open and hands what people write to the bot to h until ctx
// ends: direct messages to the bot, and posts that mention it in a channel ("@tend ask"
// is "/tend ask"). The bot's own posts, other bots', webhooks' and system messages are
// left alone. A dropped connection is made again after a back-off with jitter, resuming
// where it left off (connection_id and sequence_number) so the server replays what was
// missed; where it cannot resume (it says hello with a new connection id), the gap is
// logged. A connection that stays silent for two ping intervals is dropped. Every
// replica receives every event: the bot's inbox absorbs the copies (the event id is the
// post id). A token the server refuses is an error.
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	defer a.bg.Wait()
	s := &session{a: a, h: h}
	backoff := time.Duration(0)
	for {
		me, err := a.checkToken(ctx)
		if err != nil {
			return err
		}
		connected, err := s.connect(ctx, me)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrUnauthorized) {
			return err
		}
		if connected {
			backoff = 0
		}
		backoff = next(backoff, a.cfg.MinBackoff, a.cfg.MaxBackoff)
		wait := jitter(backoff)
		a.log.Warn("mattermost: websocket closed; reconnecting", "in", wait.String(), "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// checkToken reads the bot account (GET /users/me) before each connection: a refused
// token stops Run; a server that cannot be reached is retried like the websocket.
func (a *Adapter) checkToken(ctx context.Context) (*model.User, error) {
	u, resp, err := a.api.GetMe(ctx, "")
	if err == nil {
		a.mu.Lock()
		a.me = u
		a.mu.Unlock()
		return u, nil
	}
	if resp != nil && resp.StatusCode == http.StatusUnauthorized {
		return nil, ErrUnauthorized
	}
	a.mu.Lock()
	me := a.me
	a.mu.Unlock()
	if me == nil {
		// Not even the bot's id yet: wait for the server without spinning.
		return &model.User{}, nil
	}
	return me, nil
}

// next doubles the back-off within its bounds.
func next(d, lo, hi time.Duration) time.Duration {
	if d < lo {
		return lo
	}
	return min(d*2, hi)
}

// jitter is a uniform wait between half of d and d, so replicas do not reconnect in step.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	half := d / 2
	return half + time.Duration(binary.LittleEndian.Uint64(b[:])%uint64(d-half))
}

// session is what survives a dropped connection: where to resume.
type session struct {
	a *Adapter
	h bot.Handler
	// connID is the server's connection id, from its hello; seq is the sequence
	// number of the next event expected.
	connID string
	seq    int64
}

// connect makes one connection and reads it until it drops or ctx ends; connected is
// true once the server said hello or resumed.
func (s *session) connect(ctx context.Context, me *model.User) (connected bool, err error) {
	a := s.a
	if me.Id == "" {
		return false, errors.New("mattermost: the server cannot be reached")
	}
	dialer := a.cfg.Dialer
	if dialer == nil {
		dialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second, Proxy: http.ProxyFromEnvironment}
	}
	wsURL := "ws" + strings.TrimPrefix(a.cfg.URL, "http")
	ws, err := model.NewReliableWebSocketClientWithDialer(dialer, wsURL, a.cfg.Token, s.connID, int(s.seq), true)
	if err != nil {
		return false, fmt.Errorf("mattermost: connecting the websocket: %w", err)
	}
	var alive atomic.Int64
	alive.Store(time.Now().UnixNano())
	ws.Conn.SetPongHandler(func(string) error { alive.Store(time.Now().UnixNano()); return nil })
	ws.Listen()
	defer func() {
		ws.Close()
		// The client's reader may be waiting to hand over an event: let it finish.
		go func() {
			for range ws.EventChannel {
			}
		}()
		go func() {
			for range ws.ResponseChannel {
			}
		}()
	}()

	// Events are handled one after another, in order, off the reading loop, so a
	// slow database never stalls the connection's pings.
	queue := make(chan *model.WebSocketEvent, 256)
	defer close(queue)
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		for ev := range queue {
			if ev.EventType() == model.WebsocketEventLeaveTeam {
				s.leftTeam(ctx, me, ev)
				continue
			}
			s.posted(ctx, me, ev)
		}
	}()

	resumed := s.connID != ""
	responses := ws.ResponseChannel
	ping := time.NewTicker(a.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return connected, ctx.Err()
		case ev, ok := <-ws.EventChannel:
			if !ok {
				if ws.ListenError != nil {
					return connected, ws.ListenError
				}
				return connected, errors.New("mattermost: the server closed the websocket")
			}
			alive.Store(time.Now().UnixNano())
			if ev.EventType() == model.WebsocketEventHello {
				id, _ := ev.GetData()["connection_id"].(string)
				if resumed && id != s.connID {
					a.log.Warn("mattermost: the server could not resume the websocket; events while it was down may be missed", "expected_seq", s.seq)
				}
				s.connID, s.seq, connected = id, ev.GetSequence()+1, true
				a.log.Info("mattermost: websocket connected")
				continue
			}
			if ev.GetSequence() != s.seq {
				a.log.Warn("mattermost: websocket events out of sequence; some may be missed", "expected", s.seq, "got", ev.GetSequence())
			}
			s.seq, connected = ev.GetSequence()+1, true
			if t := ev.EventType(); t == model.WebsocketEventPosted || t == model.WebsocketEventLeaveTeam {
				select {
				case queue <- ev:
				case <-ctx.Done():
					return connected, ctx.Err()
				}
			}
		case resp, ok := <-responses:
			if !ok {
				responses = nil // closed with the connection: the events say why
				continue
			}
			if resp.SeqReply == 1 && resp.Status != model.StatusOk {
				return connected, ErrUnauthorized
			}
		case <-ws.PingTimeoutChannel:
			return connected, errors.New("mattermost: the server stopped pinging")
		case <-ping.C:
			if time.Since(time.Unix(0, alive.Load())) > 2*a.cfg.PingInterval {
				return connected, errors.New("mattermost: the websocket went silent")
			}
			if err := ws.Conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(a.cfg.PingInterval)); err != nil {
				return connected, fmt.Errorf("mattermost: pinging the websocket: %w", err)
			}
		}
	}
}

// posted handles a post: a direct message to the bot becomes a text event (a dialogue's
// answer); a post mentioning the bot in a channel becomes a command.
func (s *session) posted(ctx context.Context, me *model.User, ev *model.WebSocketEvent) {
	a := s.a
	a.busy.Add(1) // until the answers are out, for tests waiting for quiet
	defer a.busy.Add(-1)
	data := ev.GetData()
	raw, _ := data["post"].(string)
	var p model.Post
	if raw == "" || json.Unmarshal([]byte(raw), &p) != nil || p.Id == "" || p.UserId == "" {
		return
	}
	if p.UserId == me.Id || p.Type != "" || strings.TrimSpace(p.Message) == "" ||
		p.GetProp(model.PostPropsFromBot) == "true" || p.GetProp(model.PostPropsFromWebhook) == "true" {
		return
	}
	channelType, _ := data["channel_type"].(string)
	team, _ := data["team_id"].(string)
	dm := channelType == string(model.ChannelTypeDirect)
	if !dm && !mentions(data, p.Message, me) {
		return
	}
	sender, _ := data["sender_name"].(string)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), followUpTimeout)
	defer cancel()
	bev := a.event(ctx, p.Id, team, p.UserId, strings.TrimPrefix(sender, "@"), p.ChannelId, dm)
	if dm {
		a.dms.Remember(p.UserId, p.ChannelId)
		bev.Kind, bev.Text = bot.EventText, p.Message
	} else {
		bev.Kind = bot.EventCommand
		bev.Command, bev.Args = words(withoutMention(p.Message, me.Username))
	}
	r := a.handle(ctx, s.h, bev)
	// No trigger here: a form the bot still asks for natively gets a button to open it.
	a.answer(ctx, bev, r, "", carryNothing)
}

// leftTeam handles leave_team: a person left the team or was removed from it. Every
// replica receives the event; its id names the membership's end (delete_at, which the
// server keeps), so the inbox takes it once, and a later departure after a return is a
// new event. Where the membership cannot be read, the minute stands in: a second copy
// of a departure changes nothing anyway.
func (s *session) leftTeam(ctx context.Context, me *model.User, ev *model.WebSocketEvent) {
	a := s.a
	a.busy.Add(1)
	defer a.busy.Add(-1)
	data := ev.GetData()
	team, _ := data["team_id"].(string)
	user, _ := data["user_id"].(string)
	if team == "" || user == "" || user == me.Id {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), followUpTimeout)
	defer cancel()
	when := time.Now().Unix() / 60 * 60000
	if m, resp, err := a.api.GetTeamMember(ctx, team, user, ""); err == nil && m.DeleteAt > 0 {
		when = m.DeleteAt
	} else if err != nil {
		a.log.Warn("mattermost: could not read a departed team member", "team", team, "user", user, "err", apiError("GET /teams/{id}/members/{id}", resp, err))
	}
	a.handle(ctx, s.h, bot.Event{ID: "left:" + user + ":" + strconv.FormatInt(when, 10), Platform: Platform, Workspace: team,
		UserID: user, Kind: bot.EventMemberLeft, ReceivedAt: time.Now()})
}

// mentions reports whether a post mentions the bot: the server lists the mentioned user
// ids in data.mentions (a JSON array in a string); an @username in the text counts too.
func mentions(data map[string]any, message string, me *model.User) bool {
	if raw, _ := data["mentions"].(string); raw != "" {
		var ids []string
		if json.Unmarshal([]byte(raw), &ids) == nil && slices.Contains(ids, me.Id) {
			return true
		}
	}
	return me.Username != "" && mentionRE(me.Username).MatchString(message)
}

// mentionRE matches @username as a word.
func mentionRE(username string) *regexp.Regexp {
	return regexp.MustCompile(`(?i)(^|[^\w.-])@` + regexp.QuoteMeta(username) + `($|[^\w-])`)
}

// withoutMention is a post's text without the bot's @username.
func withoutMention(message, username string) string {
	if username == "" {
		return message
	}
	return mentionRE(username).ReplaceAllString(message, "$1 $2")
}
