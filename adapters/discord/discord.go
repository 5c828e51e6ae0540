// Package discord is tend's Discord adapter: the gateway for interactions (application
// commands, buttons, select menus, modals) and for what people write to the bot in its
// DMs; the REST API (v10) for messages, DMs, interaction responses and follow-ups. It
// translates Discord payloads to bot events and bot output to Discord's UI; nothing else.
//
// Files: rest.go (REST calls and error mapping), send.go (messages, DMs, edits),
// render.go (cards as messages with components, forms as modals in parts),
// interactions.go (interactions to bot events, and their responses), gateway.go (the
// connection, sharding, DMs), roles.go (guild roles as moderator and vetted roles),
// commands.go (the /tend command, its registration, the invite URL).
package discord

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/catalog"
)

// Platform is Discord's name in space bindings and identities; a space's workspace is
// its guild (server) id.
const Platform = "discord"

// DefaultAPIBase is Discord's REST API, version 10.
const DefaultAPIBase = "https://discord.com/api/v10"

// Config is what the adapter needs. The token comes from the environment (or *_FILE),
// never from the config file.
type Config struct {
	// Token is the bot token (without the "Bot " prefix).
	Token string
	// AppID is the application id; learned from the gateway's READY or from
	// GET /applications/@me when empty.
	AppID string
	// ShardID and ShardCount split the guilds between replicas; ShardCount 0 is one shard.
	ShardID, ShardCount int
	// ModeratorRoles and VettedRoles are guild role ids whose members hold the moderator
	// or vetted role.
	ModeratorRoles, VettedRoles []string
	// Locale is the language of the adapter's own lines when Discord does not say the
	// reader's: the community's locale. "" is "en".
	Locale string
	// APIBase overrides DefaultAPIBase.
	APIBase string
	// HTTPClient and Dialer are the transport seams (tests point them at a fake
	// Discord); nil means a client with a 10 s timeout and the default dialer.
	HTTPClient *http.Client
	Dialer     *websocket.Dialer
	// ReplyWithin is how long an interaction waits for the bot before it is deferred
	// (Discord allows 3 s for the first response); 0 means 1.5 s.
	ReplyWithin time.Duration
	// MemberEvents asks for the privileged GUILD_MEMBERS intent and hands the bot a
	// member-left event for each GUILD_MEMBER_REMOVE (someone left or was removed from
	// a server). Off by default: the application must have Server Members Intent
	// switched on in the developer portal, or Discord refuses the connection.
	MemberEvents bool
}

// Adapter is the Discord adapter.
type Adapter struct {
	cfg Config
	s   *discordgo.Session
	log *slog.Logger
	cat *catalog.Catalog

	// bg tracks work running after the gateway handed over an event.
	bg sync.WaitGroup
	// busy counts events being handled, so tests can wait for quiet.
	busy atomic.Int64

	mu    sync.Mutex
	appID string
	// session is the gateway session id from READY: with a dispatch's sequence number it
	// names a gateway event uniquely, replays after a resume included.
	session string
	// dms caches each user's DM channel (POST /users/@me/channels is idempotent, but a
	// call per message would waste the rate limit).
	dms bot.DMChannels
	// closed remembers people whose DMs refused the bot, to tell them how to open them
	// the next time they use tend.
	closed map[string]bool
	// members caches guild roles seen in interactions or fetched, by user and guild
	// (roles.go).
	members map[string]map[string]memberRoles
}

var (
	_ bot.Adapter         = (*Adapter)(nil)
	_ bot.Editor          = (*Adapter)(nil)
	_ bot.DirectMessenger = (*Adapter)(nil)
	_ bot.FormOpener      = (*Adapter)(nil)
	_ bot.FormParts       = (*Adapter)(nil)
)

// New builds an adapter. It makes no network call.
func New(cfg Config, log *slog.Logger) (*Adapter, error) {
	cfg.Token = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(cfg.Token), "Bot "))
	if cfg.Token == "" {
		return nil, errors.New("discord: the bot token (TEND_DISCORD_TOKEN) is required")
	}
	if cfg.ShardCount < 0 || cfg.ShardID < 0 || (cfg.ShardCount > 0 && cfg.ShardID >= cfg.ShardCount) {
		return nil, fmt.Errorf("discord: shard %d of %d is not possible (shard ids run from 0 to count-1)", cfg.ShardID, cfg.ShardCount)
	}
	if cfg.APIBase == "" {
		cfg.APIBase = DefaultAPIBase
	}
	cfg.APIBase = strings.TrimSuffix(cfg.APIBase, "/")
	if cfg.ReplyWithin <= 0 {
		cfg.ReplyWithin = 1500 * time.Millisecond
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cat, err := catalog.New()
	if err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	s, err := discordgo.New("Bot " + cfg.Token)
	if err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	if cfg.HTTPClient != nil {
		s.Client = cfg.HTTPClient
	} else {
		s.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Dialer != nil {
		s.Dialer = cfg.Dialer
	}
	// A 429 goes back to the outbox, which waits and retries without holding a worker.
	s.ShouldRetryOnRateLimit = false
	s.StateEnabled = false
	s.Identify.Intents = Intents
	if cfg.MemberEvents {
		s.Identify.Intents |= discordgo.IntentsGuildMembers
	}
	if cfg.ShardCount > 1 {
		s.ShardID, s.ShardCount = cfg.ShardID, cfg.ShardCount
		s.Identify.Shard = &[2]int{cfg.ShardID, cfg.ShardCount}
	}
	return &Adapter{cfg: cfg, s: s, log: log, cat: cat, appID: cfg.AppID,
		closed: map[string]bool{}, members: map[string]map[string]memberRoles{}}, nil
}

// Intents are the gateway intents the adapter asks for: guilds (interactions arrive
// regardless) and direct messages (what people write to the bot in its DMs, whose content
// Discord gives without the privileged message-content intent). Config.MemberEvents adds
// the privileged GUILD_MEMBERS intent.
const Intents = discordgo.IntentsGuilds | discordgo.IntentsDirectMessages

// Platform returns "discord".
func (a *Adapter) Platform() string { return Platform }

// CanDM is true: the bot opens a DM channel with POST /users/@me/channels.
func (a *Adapter) CanDM() bool { return true }

// CanOpenForms is true: forms are modals.
func (a *Adapter) CanOpenForms() bool { return true }

// FormsInParts is true: a modal holds five text inputs, so longer forms come in parts.
func (a *Adapter) FormsInParts() bool { return true }

// lang picks the language of the adapter's own lines for a reader ("fr", "en-US").
func (a *Adapter) lang(locale string) string { return catalog.Pick(locale, a.cfg.Locale) }

// text renders one of the adapter's own lines.
func (a *Adapter) text(locale, id string, args map[string]any) string {
	return a.cat.Localize(a.lang(locale), id, args)
}
