// Package catalog holds every string a person sees, in English and French, and picks
// the reader's language with the community's as the default.
package catalog

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales
var files embed.FS

// Languages are the locales every key must exist in.
var Languages = []string{"en", "fr"}

// Catalog localises message ids.
type Catalog struct {
	bundle *i18n.Bundle
	ids    map[string]map[string]bool
	locs   map[string]*i18n.Localizer
}

// New loads the embedded catalogues.
func New() (*Catalog, error) {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	c := &Catalog{bundle: b, ids: map[string]map[string]bool{}, locs: map[string]*i18n.Localizer{}}
	for _, lang := range Languages {
		c.ids[lang] = map[string]bool{}
		dir := path.Join("locales", lang)
		entries, err := fs.ReadDir(files, dir)
		if err != nil {
			return nil, fmt.Errorf("catalog: %s: %w", lang, err)
		}
		for _, e := range entries {
			data, err := files.ReadFile(path.Join(dir, e.Name()))
			if err != nil {
				return nil, fmt.Errorf("catalog: read %s: %w", e.Name(), err)
			}
			// go-i18n takes the language from the file name; keep it explicit.
			mf, err := b.ParseMessageFileBytes(data, strings.TrimSuffix(e.Name(), ".toml")+"."+lang+".toml")
			if err != nil {
				return nil, fmt.Errorf("catalog: parse %s/%s: %w", lang, e.Name(), err)
			}
			for _, m := range mf.Messages {
				c.ids[lang][m.ID] = true
			}
		}
		c.locs[lang] = i18n.NewLocalizer(b, lang, "en")
	}
	return c, nil
}

// IDs lists the message ids a language defines.
func (c *Catalog) IDs(lang string) []string {
	out := make([]string, 0, len(c.ids[lang]))
	for id := range c.ids[lang] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Has reports whether a language defines a message id.
func (c *Catalog) Has(lang, id string) bool { return c.ids[lang][id] }

// Supported returns the supported language closest to locale ("fr-CA" -> "fr"), or "".
func Supported(locale string) string {
	l := strings.ToLower(strings.TrimSpace(locale))
	l, _, _ = strings.Cut(strings.ReplaceAll(l, "_", "-"), "-")
	for _, s := range Languages {
		if s == l {
			return s
		}
	}
	return ""
}

// Pick chooses the reader's language if supported, else the community's, else English.
func Pick(reader, community string) string {
	if s := Supported(reader); s != "" {
		return s
	}
	if s := Supported(community); s != "" {
		return s
	}
	return "en"
}

// Localize renders a message id with its arguments. A count argument, when present,
// picks the plural form. An unknown id renders as the id itself, so a missing message is
// visible rather than silent; the catalogue tests keep that from shipping.
func (c *Catalog) Localize(lang, id string, args map[string]any) string {
	loc := c.locs[Pick(lang, "en")]
	cfg := &i18n.LocalizeConfig{MessageID: id, TemplateData: args}
	if n, ok := args["Count"]; ok {
		cfg.PluralCount = n
	}
	s, err := loc.Localize(cfg)
	if err != nil && s == "" && cfg.PluralCount != nil {
		// A message without plural forms that was given a Count: render it plainly.
		cfg.PluralCount = nil
		s, err = loc.Localize(cfg)
	}
	if err != nil && s == "" {
		return id
	}
	// go-i18n reports a message found only in the fallback language as an error, with
	// the fallback text: showing English beats showing nothing.
	return s
}
