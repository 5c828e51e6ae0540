package catalog

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// rawMessage is one message as written in a TOML file: its plural forms ("other" for a
// plain string) and the file it came from.
type rawMessage struct {
	file  string
	forms map[string]string
}

// reservedKeys are the keys go-i18n reads as the fields of one message; a table made of
// them is a message, any other table nests ids ("[cli.usage]" holds "cli.usage.x").
var reservedKeys = map[string]bool{
	"id": true, "description": true, "hash": true, "leftdelim": true, "rightdelim": true,
	"zero": true, "one": true, "two": true, "few": true, "many": true, "other": true,
}

// loadRaw reads every file of a language from the embedded catalogue with BurntSushi/toml
// and flattens it to message id -> message, the way go-i18n names ids.
func loadRaw(t *testing.T, lang string) map[string]rawMessage {
	t.Helper()
	dir := path.Join("locales", lang)
	entries, err := fs.ReadDir(files, dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	out := map[string]rawMessage{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".toml") {
			continue
		}
		data, err := files.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			t.Fatalf("read %s/%s: %v", dir, e.Name(), err)
		}
		var doc map[string]any
		if err := toml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("parse %s/%s: %v", dir, e.Name(), err)
		}
		flatten(t, lang+"/"+e.Name(), "", doc, out)
	}
	return out
}

func flatten(t *testing.T, file, prefix string, doc map[string]any, out map[string]rawMessage) {
	t.Helper()
	for k, v := range doc {
		id := k
		if prefix != "" {
			id = prefix + "." + k
		}
		switch v := v.(type) {
		case string:
			add(t, file, id, map[string]string{"other": v}, out)
		case map[string]any:
			if !isMessageTable(v) {
				flatten(t, file, id, v, out)
				continue
			}
			forms := map[string]string{}
			for form, text := range v {
				s, ok := text.(string)
				if !ok {
					t.Errorf("%s: %q.%s is a %T, not a string", file, id, form, text)
					continue
				}
				if form != "id" && form != "description" && form != "hash" && form != "leftdelim" && form != "rightdelim" {
					forms[form] = s
				}
			}
			add(t, file, id, forms, out)
		default:
			t.Errorf("%s: %q is a %T, not a message", file, id, v)
		}
	}
}

func isMessageTable(m map[string]any) bool {
	for k := range m {
		if !reservedKeys[k] {
			return false
		}
	}
	return len(m) > 0
}

func add(t *testing.T, file, id string, forms map[string]string, out map[string]rawMessage) {
	t.Helper()
	if prev, ok := out[id]; ok {
		t.Errorf("%s: %q is defined again (first in %s)", file, id, prev.file)
	}
	out[id] = rawMessage{file: file, forms: forms}
}

var (
	action      = regexp.MustCompile(`\{\{[^}]*\}\}`)
	placeholder = regexp.MustCompile(`\.([A-Za-z_][A-Za-z0-9_]*)`)
)

// placeholders lists the template fields a message uses, over all its plural forms.
func placeholders(m rawMessage) []string {
	set := map[string]bool{}
	for _, text := range m.forms {
		for _, a := range action.FindAllString(text, -1) {
			for _, p := range placeholder.FindAllStringSubmatch(a, -1) {
				set[p[1]] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func newCatalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestKeysInEveryLanguage fails for a key that one language defines and another lacks,
// both over the whole catalogue and file by file.
func TestKeysInEveryLanguage(t *testing.T) {
	c := newCatalog(t)
	ids := map[string][]string{}
	for _, lang := range Languages {
		ids[lang] = c.IDs(lang)
		if len(ids[lang]) == 0 {
			t.Fatalf("%s defines no messages", lang)
		}
	}
	for _, lang := range Languages {
		for _, other := range Languages {
			if lang == other {
				continue
			}
			t.Run(lang+"_vs_"+other, func(t *testing.T) {
				for _, id := range ids[lang] {
					if !c.Has(other, id) {
						t.Errorf("%q is in %s but missing from %s", id, lang, other)
					}
				}
			})
		}
	}

	// File by file, so a key lands in the same file in every language.
	names := map[string]bool{}
	for _, lang := range Languages {
		entries, err := fs.ReadDir(files, path.Join("locales", lang))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			names[e.Name()] = true
		}
	}
	raw := map[string]map[string]rawMessage{}
	for _, lang := range Languages {
		raw[lang] = loadRaw(t, lang)
	}
	for _, name := range sortedKeys(names) {
		t.Run(name, func(t *testing.T) {
			perLang := map[string]map[string]bool{}
			for _, lang := range Languages {
				if _, err := fs.Stat(files, path.Join("locales", lang, name)); err != nil {
					t.Errorf("locales/%s/%s is missing", lang, name)
				}
				perLang[lang] = map[string]bool{}
				for id, m := range raw[lang] {
					if m.file == lang+"/"+name {
						perLang[lang][id] = true
					}
				}
			}
			for _, lang := range Languages {
				for _, other := range Languages {
					if lang == other {
						continue
					}
					for _, id := range sortedKeys(perLang[lang]) {
						if !perLang[other][id] {
							t.Errorf("%q is in locales/%s/%s but missing from locales/%s/%s", id, lang, name, other, name)
						}
					}
				}
			}
		})
	}
}

// TestPlaceholdersMatch fails when a translation drops, adds or renames a template field.
func TestPlaceholdersMatch(t *testing.T) {
	base := Languages[0]
	raw := map[string]map[string]rawMessage{}
	for _, lang := range Languages {
		raw[lang] = loadRaw(t, lang)
	}
	for _, lang := range Languages[1:] {
		t.Run(base+"_vs_"+lang, func(t *testing.T) {
			for _, id := range sortedKeys(raw[base]) {
				other, ok := raw[lang][id]
				if !ok {
					continue // reported by TestKeysInEveryLanguage
				}
				want, got := placeholders(raw[base][id]), placeholders(other)
				if strings.Join(want, ",") != strings.Join(got, ",") {
					t.Errorf("%q: %s uses {%s}, %s uses {%s}", id, base, strings.Join(want, ", "), lang, strings.Join(got, ", "))
				}
			}
		})
	}
}

// TestMessagesRender renders every message in every language with each of its fields set
// and a count of 2 (and 1 for a language's plural tables), through the real bundle.
func TestMessagesRender(t *testing.T) {
	c := newCatalog(t)
	raw := map[string]map[string]rawMessage{}
	for _, lang := range Languages {
		raw[lang] = loadRaw(t, lang)
	}
	for _, lang := range Languages {
		t.Run(lang, func(t *testing.T) {
			strict := i18n.NewLocalizer(c.bundle, lang)
			for _, id := range c.IDs(lang) {
				args := map[string]any{}
				for _, l := range Languages {
					if m, ok := raw[l][id]; ok {
						for _, p := range placeholders(m) {
							args[p] = "sample " + p
						}
					}
				}
				m := raw[lang][id]
				plural := len(m.forms) > 1 || m.forms["other"] == ""
				counts := []int{2}
				if plural {
					counts = append(counts, 1)
				}
				for _, n := range counts {
					args["Count"] = n
					got := c.Localize(lang, id, args)
					if got == id {
						t.Errorf("%s %q (Count %d) did not render", lang, id, n)
					}
					if strings.Contains(got, "<no value>") {
						t.Errorf("%s %q (Count %d) renders %q", lang, id, n, got)
					}
					_, tag, err := strict.LocalizeWithTag(&i18n.LocalizeConfig{MessageID: id, TemplateData: args, PluralCount: n})
					if err != nil {
						t.Errorf("%s %q (Count %d): %v", lang, id, n, err)
					} else if base, _ := tag.Base(); base.String() != lang {
						t.Errorf("%s %q (Count %d) rendered from %s", lang, id, n, tag)
					}
				}
			}
		})
	}
}

// Message ids in Go source.
var (
	idPattern = `([a-z_]+(?:\.[a-z_0-9]+)+)`
	// Calls whose first argument (after ctx, ev for deliverSystem) is a message id.
	idCalls = []*regexp.Regexp{
		regexp.MustCompile(`\bui\.T\(\s*"` + idPattern + `"`),
		regexp.MustCompile(`\breply\(\s*"` + idPattern + `"`),
		regexp.MustCompile(`\bsystem(?:Reply|Result)\(\s*(?:ev\s*,\s*)?"` + idPattern + `"`),
		// The Discord adapter's own lines: a.text(lang, id, args).
		regexp.MustCompile(`\.text\(\s*[^,()]+,\s*"` + idPattern + `"`),
		regexp.MustCompile(`\bloc\(\s*"` + idPattern + `"`),
		regexp.MustCompile(`\bdeliverSystem\(\s*ctx\s*,\s*ev\s*,\s*"` + idPattern + `"`),
		// Also: form validation (v.fail(field, id)) and the command-line and console
		// helpers (c.t, c.say(w, id), c.note, c.problem, d.ok, d.problem).
		regexp.MustCompile(`\.fail\(\s*[^,()]+,\s*"` + idPattern + `"`),
		regexp.MustCompile(`\.say\(\s*[^,()]+,\s*"` + idPattern + `"`),
		regexp.MustCompile(`\.(?:t|note|problem|ok)\(\s*"` + idPattern + `"`),
	}
	// dynamicPrefix finds ids built as "prefix." + value.
	dynamicPrefix = regexp.MustCompile(`"((?:[a-z_]+\.)+)"\s*\+`)
)

// dynamicIDs are the values each dynamic id can take; the source must not build an id
// from a prefix missing here.
var dynamicIDs = []struct {
	use    *regexp.Regexp
	prefix string
	values []string
}{
	{regexp.MustCompile(`"request\.card\."\s*\+`), "request.card.", []string{"open", "pending", "matched", "done", "cancelled", "expired"}},
	{regexp.MustCompile(`"offer\.card\."\s*\+`), "offer.card.", []string{"full", "cancelled", "done"}},
	{regexp.MustCompile(`"status\."\s*\+`), "status.", []string{"open", "matched"}},
	{regexp.MustCompile(`"claim\."\s*\+`), "claim.", []string{"offered", "accepted"}},
	{regexp.MustCompile(`"category\."\s*\+`), "category.", []string{"ride", "meal", "groceries", "visit", "call", "errand", "grief_circle"}},
	{regexp.MustCompile(`"time\.weekday\."\s*\+`), "time.weekday.", numbers(0, 6)},
	{regexp.MustCompile(`"time\.month\."\s*\+`), "time.month.", numbers(1, 12)},
	{regexp.MustCompile(`"cli\.usage\."\s*\+`), "cli.usage.", []string{"serve", "console", "migrate", "doctor", "bench", "manifest", "discord", "partners", "screen", "audit", "keys", "backup", "version", "help", "community", "mattermost", "stats", "incident", "export", "forget"}},
	{regexp.MustCompile(`"discord\.cmd\."\s*\+`), "discord.cmd.", []string{"tend", "help", "ask", "offer", "volunteer", "mine", "privacy", "vet", "cancel", "worried", "flag", "queue", "case", "partners", "audit", "unsuspend", "edit", "setup", "settings", "ask-for", "forget-person", "link", "unlink", "stats", "incidents"}},
	{regexp.MustCompile(`"discord\.opt\."\s*\+`), "discord.opt.", []string{"volunteer.state", "vet.member", "vet.note", "worried.member", "worried.reason", "flag.what", "flag.which", "flag.reason", "case.number", "partners.action", "partners.name", "audit.member", "audit.since", "audit.until", "unsuspend.member", "edit.request", "setup.channel", "forget-person.which", "link.code", "stats.since", "stats.until", "incidents.number"}},
	{regexp.MustCompile(`"discord\.choice\."\s*\+`), "discord.choice.", []string{"volunteer.pause", "volunteer.resume", "worried.wellbeing", "worried.safety", "worried.health", "worried.other", "flag.request", "flag.offer", "flag.member", "flag.unsafe", "flag.inappropriate", "flag.spam", "flag.other", "partners.list", "partners.add", "partners.remove", "setup.board", "setup.moderators", "setup.alerts"}},
	{regexp.MustCompile(`"case\.seen\."\s*\+`), "case.seen.", []string{"ask", "offer", "dialogue", "board", "talk", "other"}},
	{regexp.MustCompile(`"tier\."\s*\+`), "tier.", []string{"distress", "ideation", "imminent"}},
	{regexp.MustCompile(`"case\.status\."\s*\+`), "case.status.", []string{"acknowledged", "referred", "resolved"}},
	{regexp.MustCompile(`"partner\.kind\."\s*\+`), "partner.kind.", []string{"social_work", "palliative", "grief", "crisis", "food_bank", "other"}},
	{regexp.MustCompile(`"referral\.basis\."\s*\+`), "referral.basis.", []string{"consent", "emergency"}},
	{regexp.MustCompile(`"referral\.card_basis\."\s*\+`), "referral.card_basis.", []string{"consent", "emergency"}},
	{regexp.MustCompile(`"language\."\s*\+`), "language.", []string{"en", "fr"}},
	{regexp.MustCompile(`"link\.platform\."\s*\+`), "link.platform.", []string{"discord", "slack", "mattermost", "console"}},
	{regexp.MustCompile(`"cli\.mattermost\.registered\."\s*\+`), "cli.mattermost.registered.", []string{"created", "updated", "unchanged"}},
	{regexp.MustCompile(`"cli\.manifest\.mattermost\."\s*\+`), "cli.manifest.mattermost.", []string{"bots", "account", "token", "integrations", "network", "config", "register", "next"}},
	{regexp.MustCompile(`"cli\.incident\.flag\."\s*\+`), "cli.incident.flag.", []string{"data", "circumstances", "occurred", "known", "affected", "risk", "sensitivity", "consequences", "likelihood", "notified_cai", "notified_people", "measures"}},
	// msg + "_already", with msg one of these two.
	{regexp.MustCompile(`"volunteer\.(?:paused|resumed)"`), "volunteer.", []string{"paused", "resumed", "paused_already", "resumed_already"}},
}

func numbers(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

// fakePlatforms are test servers that speak a platform's protocol: their strings are
// wire paths and payload fields, never message ids.
var fakePlatforms = map[string]bool{"discordtest": true, "mattermosttest": true}

type use struct {
	id, where string
}

// scanSource collects the message ids the Go packages use, with file:line.
func scanSource(t *testing.T) []use {
	t.Helper()
	var uses []use
	found := make([]bool, len(dynamicIDs))
	for _, root := range []string{"../bot", "../flows", "../adapters", "../cmd"} {
		if _, err := os.Stat(root); os.IsNotExist(err) {
			continue
		}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && fakePlatforms[d.Name()] {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for i, line := range strings.Split(string(data), "\n") {
				where := fmt.Sprintf("%s:%d", filepath.ToSlash(p), i+1)
				for _, re := range idCalls {
					for _, m := range re.FindAllStringSubmatch(line, -1) {
						uses = append(uses, use{m[1], where})
					}
				}
				covered := map[string]bool{}
				for k, dyn := range dynamicIDs {
					if !dyn.use.MatchString(line) {
						continue
					}
					found[k] = true
					covered[dyn.prefix] = true
					for _, v := range dyn.values {
						uses = append(uses, use{dyn.prefix + v, where})
					}
				}
				for _, m := range dynamicPrefix.FindAllStringSubmatch(line, -1) {
					if !covered[m[1]] {
						t.Errorf("%s: message id built from %q + a value; list its values in dynamicIDs", where, m[1])
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", root, err)
		}
	}
	// Known dynamic values stay checked even if the code that builds them moves.
	for k, dyn := range dynamicIDs {
		if found[k] {
			continue
		}
		for _, v := range dyn.values {
			uses = append(uses, use{dyn.prefix + v, "(known dynamic id)"})
		}
	}
	if len(uses) == 0 {
		t.Fatal("found no message ids in the Go source; is the scan looking in the right place?")
	}
	return uses
}

// TestSourceIDsExist fails for a message id the code uses that a language lacks.
func TestSourceIDsExist(t *testing.T) {
	c := newCatalog(t)
	uses := scanSource(t)
	for _, lang := range Languages {
		t.Run(lang, func(t *testing.T) {
			reported := map[string]bool{}
			for _, u := range uses {
				key := u.id + " " + u.where
				if c.Has(lang, u.id) || reported[key] {
					continue
				}
				reported[key] = true
				t.Errorf("%s: %q is missing from %s", u.where, u.id, lang)
			}
		})
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
