// Package mattermost is tend's Mattermost adapter: a bot account's websocket for what
// people write to the bot (direct messages and mentions), the /tend slash command,
// message attachments with buttons whose callbacks tend signs itself, interactive
// dialogs for forms, ephemeral posts and direct messages for private answers, and board
// cards edited in place through the REST API (v4). It translates Mattermost payloads to
// bot events and bot output to Mattermost's UI; nothing else.
//
// Files: api.go (REST calls and error mapping), send.go (posts, DMs, ephemeral posts,
// edits), render.go (cards as attachments, forms as dialogs), sign.go (signed action
// contexts and dialog states), http.go (the slash command, action and dialog endpoints),
// inbound.go (Mattermost payloads to bot events and the answers), socket.go (the
// websocket), people.go (names, languages, administrators), roles.go (groups and
// channels as moderator and vetted roles), commands.go (registering /tend),
// sanitize.go (text that cannot ping nor disguise a link).
package mattermost

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mattermost/mattermost/server/public/model"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/catalog"
)

// Platform is Mattermost's name in space bindings and identities; a space's workspace is
// its team id.
const Platform = "mattermost"

// Paths of the endpoints Mattermost calls on tend's HTTP listener.
const (
	PathPrefix  = "/mattermost/"
	PathCommand = "/mattermost/command"
	PathAction  = "/mattermost/action"
	PathDialog  = "/mattermost/dialog"
)

// Trigger is the slash command's trigger word.
const Trigger = "tend"

// Config is what the adapter needs. The token and the secrets come from the environment
// (or *_FILE), never from the config file.
type Config struct {
	// URL is the Mattermost server, such as https://chat.example.org.
	URL string
	// Token is the bot account's access token.
	Token string
	// CallbackURL is tend's HTTP listener as the Mattermost server reaches it, such as
	// http://tend.internal:9464: the slash command, buttons and dialogs call it.
	CallbackURL string
	// ActionSecret signs button contexts and dialog states (HMAC-SHA256);
	// OldActionSecrets still verify what they signed, so a rotation leaves older
	// buttons working.
	ActionSecret     []byte
	OldActionSecrets [][]byte
	// CommandTokens are the slash command tokens accepted; more are learned from the
	// commands the bot can list at start (LearnCommandTokens).
	CommandTokens []string
	// ModeratorGroups and VettedGroups are group names (the @handle, without @) or ids;
	// ModeratorChannels and VettedChannels are channel ids or "team-name/channel-name":
	// their members hold the moderator or vetted role.
	ModeratorGroups, VettedGroups     []string
	ModeratorChannels, VettedChannels []string
	// Locale is the language of the adapter's own lines when Mattermost does not say the
	// reader's: the community's locale. "" is "en".
	Locale string
	// TimeZone is the community's zone; date and time answers given with Mattermost's
	// date picker are read in it.
	TimeZone string
	// DateTimeElements shows date-and-time questions with Mattermost's date picker
	// (servers that have "datetime" dialog elements); otherwise they are text.
	DateTimeElements bool
	// HTTPClient and Dialer are the transport seams (tests point them at a fake
	// Mattermost); nil means a client with a 10 s timeout and a default dialer.
	HTTPClient *http.Client
	Dialer     *websocket.Dialer
	// PingInterval is how often the websocket is pinged; a connection silent for two
	// intervals is dropped and made again. 0 means 30 s.
	PingInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait between reconnections (with jitter);
	// 0 means 1 s and 60 s.
	MinBackoff, MaxBackoff time.Duration
}

// Adapter is the Mattermost adapter.
type Adapter struct {
	cfg  Config
	api  *model.Client4
	log  *slog.Logger
	cat  *catalog.Catalog
	sign signer
	zone *time.Location

	// bg tracks work running after an event was handed over; busy counts events being
	// handled, so tests can wait for quiet.
	bg   sync.WaitGroup
	busy atomic.Int64
	// noEphemeral remembers that the server refused the bot an ephemeral post.
	noEphemeral atomic.Bool

	mu sync.Mutex
	// me is the bot account, read once with GET /users/me.
	me *model.User
	// dms remembers each person's direct channel with the bot.
	dms bot.DMChannels
	// refs maps a post reference (see sign.go) to the post that carries it.
	refs map[string]string
	// tokens are the SHA-256 digests of the accepted slash command tokens; learned is
	// when they were last read from the server after a refusal.
	tokens  [][32]byte
	learned time.Time
	// people caches names, languages and administrator status (people.go).
	people map[string]person
	// roles are the members of the configured groups and channels (roles.go).
	mods, vetted map[string]bool
}

var (
	_ bot.Adapter         = (*Adapter)(nil)
	_ bot.Editor          = (*Adapter)(nil)
	_ bot.DirectMessenger = (*Adapter)(nil)
	_ bot.EventFormOpener = (*Adapter)(nil)
)

// New builds an adapter. It makes no network call.
func New(cfg Config, log *slog.Logger) (*Adapter, error) {
	cfg.Token = strings.TrimSpace(cfg.Token)
	if cfg.Token == "" {
		return nil, errors.New("mattermost: the bot access token (TEND_MATTERMOST_TOKEN) is required")
	}
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("mattermost: the server URL %q must be an http or https URL, such as https://chat.example.org", cfg.URL)
	}
	cfg.URL = strings.TrimRight(u.String(), "/")
	if cfg.CallbackURL != "" {
		cu, err := url.Parse(strings.TrimSpace(cfg.CallbackURL))
		if err != nil || (cu.Scheme != "http" && cu.Scheme != "https") || cu.Host == "" {
			return nil, fmt.Errorf("mattermost: the callback URL %q must be an http or https URL where Mattermost reaches tend", cfg.CallbackURL)
		}
		cfg.CallbackURL = strings.TrimRight(cu.String(), "/")
	}
	if len(cfg.ActionSecret) < 32 {
		return nil, errors.New("mattermost: the action secret must be at least 32 bytes")
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 30 * time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(60*time.Second, cfg.MinBackoff)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cat, err := catalog.New()
	if err != nil {
		return nil, fmt.Errorf("mattermost: %w", err)
	}
	zone := time.UTC
	if cfg.TimeZone != "" {
		if zone, err = time.LoadLocation(cfg.TimeZone); err != nil {
			return nil, fmt.Errorf("mattermost: time zone %q: %w", cfg.TimeZone, err)
		}
	}
	api := model.NewAPIv4Client(cfg.URL)
	api.SetToken(cfg.Token)
	if cfg.HTTPClient != nil {
		api.HTTPClient = cfg.HTTPClient
	} else {
		api.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	a := &Adapter{cfg: cfg, api: api, log: log, cat: cat, zone: zone,
		sign: signer{keys: append([][]byte{cfg.ActionSecret}, cfg.OldActionSecrets...)},
		refs: map[string]string{}, people: map[string]person{}, mods: map[string]bool{}, vetted: map[string]bool{}}
	for _, t := range cfg.CommandTokens {
		a.acceptToken(t)
	}
	return a, nil
}

// Platform returns "mattermost".
func (a *Adapter) Platform() string { return Platform }

// CanDM is true: the bot opens a direct channel with POST /channels/direct.
func (a *Adapter) CanDM() bool { return true }

// CanOpenFormFor is true for a slash command and a button press: Mattermost gives a
// trigger id to open a dialog with. A message to the bot and a submitted dialog bring
// none, so their forms go through the DM dialogue.
func (a *Adapter) CanOpenFormFor(ev bot.Event) bool {
	return strings.HasPrefix(ev.ID, idCommand) || strings.HasPrefix(ev.ID, idAction)
}

// lang picks the language of the adapter's own lines for a reader.
func (a *Adapter) lang(locale string) string { return catalog.Pick(locale, a.cfg.Locale) }

// text renders one of the adapter's own lines.
func (a *Adapter) text(locale, id string, args map[string]any) string {
	return a.cat.Localize(a.lang(locale), id, args)
}

// callback is the URL of one of tend's endpoints as Mattermost reaches it.
func (a *Adapter) callback(path string) string { return a.cfg.CallbackURL + path }
