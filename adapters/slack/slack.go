// Package slack is tend's Slack adapter: Socket Mode by default, signed HTTP requests as
// the alternative, Block Kit for cards, modals for forms, ephemeral messages and DMs for
// private answers, and board cards updated in place. It translates Slack payloads to bot
// events and bot output to Slack's UI; nothing else.
//
// Files: send.go (Web API calls and error mapping), render.go (cards as Block Kit),
// modal.go (forms as modals, the App Home), inbound.go (Slack payloads to bot events and
// the answers that acknowledge them), socket.go (Socket Mode), http.go (signed HTTP
// endpoints), roles.go (user groups as moderator and vetted roles), users.go (people's
// names).
package slack

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/catalog"
)

// Platform is Slack's name in space bindings and identities.
const Platform = "slack"

// Modes of receiving events.
const (
	ModeSocket = "socket"
	ModeHTTP   = "http"
)

// Names the app manifest must use for what the adapter receives.
const (
	// Command is the slash command.
	Command = "/tend"
	// ShortcutAsk is the callback id of the message shortcut "Ask for help with this".
	ShortcutAsk = "ask_with_this"
	// Paths of the HTTP-mode endpoints (request URLs in the manifest).
	PathEvents        = "/slack/events"
	PathInteractivity = "/slack/interactivity"
	PathCommands      = "/slack/commands"
)

// BotScopes are the bot token scopes the adapter's calls need, for the app manifest:
// chat:write (chat.postMessage, chat.postEphemeral, chat.update), im:write
// (conversations.open), im:history (message.im events: what people write to the bot in
// its DM), commands (the slash command and the message shortcut), usergroups:read
// (usergroups.list and usergroups.users.list, for roles), users:read (users.info: the
// name Slack shows for a person, where Slack sends only their handle). views.open and
// views.publish need no scope of their own.
var BotScopes = []string{"chat:write", "commands", "im:history", "im:write", "usergroups:read", "users:read"}

// BotEvents are the bot events the app must subscribe to. user_change (scope users:read)
// tells of an account deactivated: a member who left or was removed, whose claims are
// handed back.
var BotEvents = []string{"app_home_opened", "message.im", "user_change"}

// Config is what the adapter needs. Tokens and the signing secret come from the
// environment (or *_FILE), never from the config file.
type Config struct {
	// BotToken (xoxb-...) calls the Web API.
	BotToken string
	// AppToken (xapp-...) opens the Socket Mode connection.
	AppToken string
	// SigningSecret verifies HTTP-mode requests.
	SigningSecret string
	// Mode is ModeSocket (default) or ModeHTTP.
	Mode string
	// APIURL overrides Slack's Web API base URL (tests point it at an httptest server);
	// it must end with a slash, as slack-go expects.
	APIURL string
	// HTTPClient is used for the Web API; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// ModeratorGroups and VettedGroups are user group ids or handles whose members hold
	// the moderator or vetted role.
	ModeratorGroups []string
	VettedGroups    []string
	// Locale is the language of the adapter's own lines (the App Home, a modal's
	// buttons) when Slack does not say the reader's: the community's locale. "" is "en".
	Locale string
}

// Adapter is the Slack adapter. Sending (send.go, render.go, modal.go) and receiving
// (socket.go, http.go, inbound.go) share it.
type Adapter struct {
	cfg Config
	api *slack.Client
	log *slog.Logger
	cat *catalog.Catalog
	// viewKey keys the digest of a submitted modal's answers in its event id.
	viewKey []byte

	// bg tracks work that follows an acknowledgement (posting a reply, opening a modal),
	// so Run can wait for it on the way out.
	bg sync.WaitGroup

	mu sync.Mutex
	// dms caches the DM channel of each user (conversations.open is idempotent, but a
	// call per message would waste the rate limit).
	dms bot.DMChannels
	// names caches people's names by user id (users.go).
	names map[string]cachedName
}

var (
	_ bot.Adapter         = (*Adapter)(nil)
	_ bot.Editor          = (*Adapter)(nil)
	_ bot.DirectMessenger = (*Adapter)(nil)
	_ bot.FormOpener      = (*Adapter)(nil)
)

// New builds an adapter. It makes no network call.
func New(cfg Config, log *slog.Logger) (*Adapter, error) {
	if cfg.BotToken == "" {
		return nil, errors.New("slack: the bot token (TEND_SLACK_BOT_TOKEN) is required")
	}
	switch cfg.Mode {
	case "", ModeSocket:
		cfg.Mode = ModeSocket
		if cfg.AppToken == "" {
			return nil, errors.New("slack: socket mode needs the app-level token (TEND_SLACK_APP_TOKEN, xapp-...)")
		}
	case ModeHTTP:
		if cfg.SigningSecret == "" {
			return nil, errors.New("slack: HTTP mode needs the signing secret (TEND_SLACK_SIGNING_SECRET)")
		}
	default:
		return nil, errors.New(`slack: mode must be "socket" or "http"`)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if !strings.HasPrefix(cfg.BotToken, "xoxb-") {
		log.Warn("slack: the bot token usually starts with xoxb-; check TEND_SLACK_BOT_TOKEN")
	}
	if cfg.Mode == ModeSocket && !strings.HasPrefix(cfg.AppToken, "xapp-") {
		log.Warn("slack: the app-level token usually starts with xapp-; check TEND_SLACK_APP_TOKEN")
	}
	cat, err := catalog.New()
	if err != nil {
		return nil, fmt.Errorf("slack: %w", err)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	opts := []slack.Option{slack.OptionHTTPClient(client)}
	if cfg.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(cfg.APIURL))
	}
	if cfg.AppToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(cfg.AppToken))
	}
	return &Adapter{
		cfg: cfg, api: slack.New(cfg.BotToken, opts...), log: log, cat: cat,
		viewKey: deriveKey(cfg.BotToken), names: map[string]cachedName{},
	}, nil
}

// Platform returns "slack".
func (a *Adapter) Platform() string { return Platform }

// CanDM is true: the bot opens a DM with conversations.open.
func (a *Adapter) CanDM() bool { return true }

// CanOpenForms is true: forms are modals (views.open with the interaction's trigger id).
func (a *Adapter) CanOpenForms() bool { return true }

// lang picks the language of the adapter's own lines for a reader.
func (a *Adapter) lang(locale string) string { return catalog.Pick(locale, a.cfg.Locale) }

// localizer returns a function that renders the adapter's own message ids in lang.
func (a *Adapter) localizer(lang string) func(id string) string {
	return func(id string) string { return a.cat.Localize(lang, id, nil) }
}
