package discord

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/tend-community/tend/catalog"
)

// Command is the application command: "/tend <subcommand>".
const Command = "tend"

// Permissions are the least the bot needs in a guild: view the board and moderators'
// channels and send messages there (its own messages it may edit without more). DMs,
// interactions and their responses need no permission.
const Permissions = 1<<10 | 1<<11 // VIEW_CHANNEL | SEND_MESSAGES

// InviteURL is the link that adds the bot to a guild with Permissions and the
// applications.commands scope.
func InviteURL(appID string) string {
	q := url.Values{}
	q.Set("client_id", appID)
	q.Set("scope", "bot applications.commands")
	q.Set("permissions", strconv.Itoa(Permissions))
	return "https://discord.com/oauth2/authorize?" + q.Encode()
}

// subcommand is one "/tend" subcommand: its name (the bot's command word) and French
// name, and its options (all strings or users), in the order the bot takes as arguments.
type subcommand struct {
	name, fr string
	options  []option
}

type option struct {
	name, fr string
	user     bool
	required bool
	choices  []string // values; their labels come from the catalogue
	// keyword, when set, goes before the value in the bot's arguments ("since" 2026-11-01).
	keyword string
}

// subcommands are the bot's commands as Discord shows them.
var subcommands = []subcommand{
	{name: "help", fr: "aide"},
	{name: "ask", fr: "demander"},
	{name: "offer", fr: "offrir"},
	{name: "volunteer", fr: "bénévole", options: []option{{name: "state", fr: "état", choices: []string{"pause", "resume"}}}},
	{name: "mine", fr: "moi"},
	{name: "privacy", fr: "confidentialité"},
	{name: "vet", fr: "vérifier", options: []option{{name: "member", fr: "membre", user: true, required: true}, {name: "note", fr: "note"}}},
	{name: "cancel", fr: "annuler"},
	{name: "worried", fr: "inquiet", options: []option{{name: "member", fr: "membre", user: true, required: true},
		{name: "reason", fr: "raison", choices: []string{"wellbeing", "safety", "health", "other"}}}},
	{name: "flag", fr: "signaler", options: []option{{name: "what", fr: "quoi", required: true, choices: []string{"request", "offer", "member"}},
		{name: "which", fr: "lequel", required: true}, {name: "reason", fr: "raison", choices: []string{"unsafe", "inappropriate", "spam", "other"}}}},
	{name: "queue", fr: "file"},
	{name: "case", fr: "dossier", options: []option{{name: "number", fr: "numéro", required: true}}},
	{name: "partners", fr: "partenaires", options: []option{{name: "action", fr: "action", choices: []string{"list", "add", "remove"}}, {name: "name", fr: "nom"}}},
	{name: "audit", fr: "journal", options: []option{{name: "member", fr: "membre", user: true, keyword: "member"},
		{name: "since", fr: "depuis", keyword: "since"}, {name: "until", fr: "jusqua", keyword: "until"}}},
	{name: "unsuspend", fr: "réactiver", options: []option{{name: "member", fr: "membre", user: true, required: true}}},
	{name: "setup", fr: "configurer", options: []option{{name: "channel", fr: "salon", choices: []string{"board", "moderators", "alerts"}}}},
	{name: "settings", fr: "réglages"},
	{name: "edit", fr: "modifier", options: []option{{name: "request", fr: "demande"}}},
	{name: "ask-for", fr: "demander-pour"},
	{name: "forget-person", fr: "oublier-personne", options: []option{{name: "which", fr: "laquelle", required: true}}},
	{name: "link", fr: "lier", options: []option{{name: "code", fr: "code"}}},
	{name: "unlink", fr: "délier"},
	{name: "stats", fr: "statistiques", options: []option{{name: "since", fr: "depuis", keyword: "since"}, {name: "until", fr: "jusqua", keyword: "until"}}},
	{name: "incidents", fr: "incidents", options: []option{{name: "number", fr: "numéro"}}},
}

// arguments turns a subcommand's options, as Discord sends them (in any order), into the
// bot's arguments in the order the subcommand defines them.
func arguments(sub string, given map[string]string) []string {
	var args []string
	for _, sc := range subcommands {
		if sc.name != sub {
			continue
		}
		for _, o := range sc.options {
			v, ok := given[o.name]
			if !ok || v == "" {
				continue
			}
			if o.keyword != "" {
				args = append(args, o.keyword)
			}
			args = append(args, strings.Fields(v)...)
		}
	}
	return args
}

// Commands is the application command definition, with English and French names and
// descriptions from the catalogues. It is usable in guilds only: a community lives in
// a guild, and its DMs with the bot are for answers.
func Commands(cat *catalog.Catalog) []map[string]any {
	desc := func(id string) (string, map[string]string) {
		return cat.Localize("en", id, nil), map[string]string{"fr": cat.Localize("fr", id, nil)}
	}
	var subs []map[string]any
	for _, sc := range subcommands {
		d, dl := desc("discord.cmd." + sc.name)
		s := map[string]any{"type": 1, "name": sc.name, "name_localizations": map[string]string{"fr": sc.fr},
			"description": d, "description_localizations": dl}
		var opts []map[string]any
		for _, o := range sc.options {
			od, odl := desc("discord.opt." + sc.name + "." + o.name)
			typ := 3
			if o.user {
				typ = 6
			}
			m := map[string]any{"type": typ, "name": o.name, "name_localizations": map[string]string{"fr": o.fr},
				"description": od, "description_localizations": odl, "required": o.required}
			var choices []map[string]any
			for _, c := range o.choices {
				cd, cdl := desc("discord.choice." + sc.name + "." + c)
				choices = append(choices, map[string]any{"name": cd, "name_localizations": cdl, "value": c})
			}
			if choices != nil {
				m["choices"] = choices
			}
			opts = append(opts, m)
		}
		if opts != nil {
			s["options"] = opts
		}
		subs = append(subs, s)
	}
	d, dl := desc("discord.cmd.tend")
	return []map[string]any{{"type": 1, "name": Command, "description": d, "description_localizations": dl,
		"contexts": []int{0}, "integration_types": []int{0}, "options": subs}}
}

// Register installs the commands in one guild, or globally when guild is "", with a
// bulk overwrite: running it again changes nothing, and a renamed command does not
// linger. Guild commands show at once; global ones can take up to an hour.
func (a *Adapter) Register(ctx context.Context, guild string) (int, error) {
	app, err := a.ApplicationID(ctx)
	if err != nil {
		return 0, err
	}
	route := "/applications/" + app + "/commands"
	if guild != "" {
		route = "/applications/" + app + "/guilds/" + guild + "/commands"
	}
	var out []map[string]any
	if err := a.call(ctx, "PUT", route, "PUT "+route, Commands(a.cat), &out); err != nil {
		return 0, err
	}
	return len(out), nil
}

// ApplicationID is the bot's application id: configured, learned from the gateway, or
// asked with GET /applications/@me.
func (a *Adapter) ApplicationID(ctx context.Context) (string, error) {
	a.mu.Lock()
	id := a.appID
	a.mu.Unlock()
	if id != "" {
		return id, nil
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := a.call(ctx, "GET", "/applications/@me", "GET /applications/@me", nil, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", errors.New("discord GET /applications/@me: no id in the answer")
	}
	a.mu.Lock()
	a.appID = out.ID
	a.mu.Unlock()
	return out.ID, nil
}
