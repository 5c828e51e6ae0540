// Package safety spots crisis signals in what people write, so that tend can answer a
// person at once with the community's crisis resources and tell its moderators (DESIGN.md,
// flow 6). It gives a signal with a tier, never a label or a diagnosis, and it errs toward
// flagging: a moderator reading a false alarm costs little, a missed goodbye costs a life.
//
// Matching is plain phrase matching over normalised words, with phrase lists per locale
// kept as readable data files (lists/en.toml, lists/fr.toml) that a community can read,
// test with `tend screen`, and extend with its own phrases. Hard negatives ("mort de
// rire", "medical assistance in dying") cancel a match they contain entirely. A Signal
// never carries the matched words or the text, so nothing downstream can copy them.
package safety

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// Tier is how urgent a signal is; a higher tier is more severe.
type Tier int

// Tiers, in increasing severity.
const (
	// TierNone: nothing found.
	TierNone Tier = iota
	// TierDistress: indirect or passive ("better off without me", "j'en peux plus").
	TierDistress
	// TierIdeation: a direct statement ("I want to die", "je pense au suicide").
	TierIdeation
	// TierImminent: a plan, the means, a time or a goodbye ("this is my goodbye").
	TierImminent
)

var tierNames = [...]string{"none", "distress", "ideation", "imminent"}

// String returns "none", "distress", "ideation" or "imminent".
func (t Tier) String() string {
	if t < TierNone || t > TierImminent {
		return fmt.Sprintf("Tier(%d)", int(t))
	}
	return tierNames[t]
}

// ParseTier reads a tier's name, as String writes it.
func ParseTier(s string) (Tier, error) {
	i := slices.Index(tierNames[:], strings.ToLower(strings.TrimSpace(s)))
	if i < 0 {
		return TierNone, fmt.Errorf("safety: unknown tier %q (none, distress, ideation, imminent)", s)
	}
	return Tier(i), nil
}

// Signal is what Screen found: a tier and the locale of the list that matched ("" for
// TierNone). It deliberately holds nothing of the text.
type Signal struct {
	Tier   Tier
	Locale string
}

// Lists are the phrase lists of one or more locales plus the hard negatives of all of
// them. Screen may be called from many goroutines at once; Extend may not run
// concurrently with Screen, so extend a Lists before sharing it.
type Lists struct {
	locales []string
	// Phrases are found through the word they must start with, so screening costs
	// little more per word however long the lists grow.
	positives, negatives index
	// Phrases run together, by their first minGluedLen bytes, to find inside one word.
	glued, gluedNegs map[string][]gluedRef
}

// ref is a compiled phrase with its tier and locale (an index into locales).
type ref struct {
	p    *pattern
	tier Tier
	loc  int
}

type gluedRef struct {
	text string
	r    ref
}

func addGlued(m *map[string][]gluedRef, r ref) {
	if *m == nil {
		*m = map[string][]gluedRef{}
	}
	for _, g := range r.p.glued {
		(*m)[g[:minGluedLen]] = append((*m)[g[:minGluedLen]], gluedRef{g, r})
	}
}

type index struct {
	first map[string][]ref // by the word a match starts with
	led   map[string][]ref // negatives that begin with a gap, by the word after it
	loose []ref            // phrases that may start with any word
}

func (x *index) add(r ref) {
	m, p := &x.first, r.p
	if p.body != nil {
		m, p = &x.led, p.body
	}
	anchors := p.anchors()
	if anchors == nil {
		x.loose = append(x.loose, r)
		return
	}
	if *m == nil {
		*m = map[string][]ref{}
	}
	for _, a := range anchors {
		(*m)[a] = append((*m)[a], r)
	}
}

//go:embed lists/*.toml
var listFiles embed.FS

// Available lists the locales with embedded lists.
func Available() []string {
	entries, _ := fs.ReadDir(listFiles, "lists")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".toml"))
	}
	return out
}

var localeRE = regexp.MustCompile(`^[a-z]{2,3}$`)

// canonicalLocale reduces "fr-CA" or "FR_ca" to "fr".
func canonicalLocale(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s, _, _ = strings.Cut(strings.ReplaceAll(s, "_", "-"), "-")
	return s
}

// Default returns the embedded lists of the given locales ("en", "fr"; a region such as
// "fr-CA" is ignored), in that order: when two locales match at the same tier, the
// first names the signal. A community that writes in several languages screens with all
// of them. An unknown locale is an error.
func Default(locales ...string) (*Lists, error) {
	if len(locales) == 0 {
		return nil, fmt.Errorf("safety: no locale given (available: %s)", strings.Join(Available(), ", "))
	}
	l := &Lists{}
	for _, raw := range locales {
		loc := canonicalLocale(raw)
		if slices.Contains(l.locales, loc) {
			continue
		}
		data, err := listFiles.ReadFile(path.Join("lists", loc+".toml"))
		if err != nil || !localeRE.MatchString(loc) {
			return nil, fmt.Errorf("safety: no phrase lists for locale %q (available: %s)", raw, strings.Join(Available(), ", "))
		}
		if err := l.load(loc, data); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// listFile is the shape of lists/<locale>.toml.
type listFile struct {
	Locale    string      `toml:"locale"`
	Imminent  listSection `toml:"imminent"`
	Ideation  listSection `toml:"ideation"`
	Distress  listSection `toml:"distress"`
	Negatives listSection `toml:"negatives"`
}

type listSection struct {
	Phrases []string `toml:"phrases"`
}

func (l *Lists) load(loc string, data []byte) error {
	var f listFile
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return fmt.Errorf("safety: lists/%s.toml: %w", loc, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return fmt.Errorf("safety: lists/%s.toml: unknown key %s", loc, und[0])
	}
	if f.Locale != loc {
		return fmt.Errorf("safety: lists/%s.toml says locale %q", loc, f.Locale)
	}
	err = l.add(Extension{Locale: loc, Imminent: f.Imminent.Phrases, Ideation: f.Ideation.Phrases,
		Distress: f.Distress.Phrases, Negatives: f.Negatives.Phrases})
	if err != nil {
		return fmt.Errorf("safety: lists/%s.toml: %w", loc, err)
	}
	return nil
}

// Extension is a community's own phrases for one locale, per tier, and its own hard
// negatives, in the syntax of the embedded lists (see lists/en.toml).
type Extension struct {
	Locale                       string
	Imminent, Ideation, Distress []string
	Negatives                    []string
}

// Extend adds a community's phrases. Every phrase is normalised like a message, so
// capitals and accents do not matter; a phrase that is empty, too long (over 200
// characters or 12 words), too broad (no required word of three letters or more) or
// malformed is an error, and then nothing is added. The locale need not have embedded
// lists: a community may bring a language of its own.
func (l *Lists) Extend(ext Extension) error {
	if err := l.add(ext); err != nil {
		return fmt.Errorf("safety: %w", err)
	}
	return nil
}

func (l *Lists) add(ext Extension) error {
	loc := canonicalLocale(ext.Locale)
	if !localeRE.MatchString(loc) {
		return fmt.Errorf("locale %q is not a language code such as en or fr", ext.Locale)
	}
	var errs []error
	compileAll := func(section string, phrases []string, negative bool) []*pattern {
		out := make([]*pattern, 0, len(phrases))
		for _, src := range phrases {
			p, err := compile(src, negative)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q: %w", section, src, err))
				continue
			}
			out = append(out, p)
		}
		return out
	}
	var tiers [TierImminent + 1][]*pattern
	tiers[TierImminent] = compileAll("imminent", ext.Imminent, false)
	tiers[TierIdeation] = compileAll("ideation", ext.Ideation, false)
	tiers[TierDistress] = compileAll("distress", ext.Distress, false)
	negs := compileAll("negatives", ext.Negatives, true)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	li := slices.Index(l.locales, loc)
	if li < 0 {
		li = len(l.locales)
		l.locales = append(l.locales, loc)
	}
	for t := range tiers {
		for _, p := range tiers[t] {
			r := ref{p: p, tier: Tier(t), loc: li}
			l.positives.add(r)
			addGlued(&l.glued, r)
		}
	}
	for _, p := range negs {
		r := ref{p: p, loc: li}
		l.negatives.add(r)
		addGlued(&l.gluedNegs, r)
	}
	return nil
}

// Locales lists the locales screened, in order.
func (l *Lists) Locales() []string { return slices.Clone(l.locales) }

// Screen looks for crisis signals in text. The highest tier found wins, and between
// locales the one listed first; a match lying entirely inside a hard negative does not
// count.
func (l *Lists) Screen(text string) Signal {
	words := strings.Fields(Normalize(text))
	if len(words) == 0 {
		return Signal{}
	}
	keys := make([]string, len(words))
	for i, w := range words {
		keys[i] = squeeze(w)
	}
	// cover[i] is the farthest word reached by a negative starting at or before word i:
	// a match from i to end is cancelled when end <= cover[i].
	cover := make([]int, len(keys))
	for i := range cover {
		cover[i] = -1
	}
	for i, k := range keys {
		for _, r := range l.negatives.first[k] {
			cover[i] = max(cover[i], r.p.longest(keys, i))
		}
		for _, r := range l.negatives.loose {
			cover[i] = max(cover[i], r.p.longest(keys, i))
		}
		// A negative with a leading gap starts as far back as its gap reaches.
		for _, r := range l.negatives.led[k] {
			if end := r.p.body.longest(keys, i); end > i && i >= r.p.leadMin {
				start := max(0, i-r.p.lead)
				cover[start] = max(cover[start], end)
			}
		}
		// A word holding a negative run together ("#suicidesquad") is cancelled whole.
		if len(k) >= minGluedLen && len(findGlued(l.gluedNegs, k)) > 0 {
			cover[i] = max(cover[i], i+1)
		}
	}
	for i := 1; i < len(cover); i++ {
		cover[i] = max(cover[i], cover[i-1])
	}

	best, bestLoc := TierNone, len(l.locales)
	better := func(r ref) bool { return r.tier > best || (r.tier == best && r.loc < bestLoc) }
	try := func(r ref, i int) {
		if better(r) && r.p.longest(keys, i) > cover[i] {
			best, bestLoc = r.tier, r.loc
		}
	}
	for i, k := range keys {
		for _, r := range l.positives.first[k] {
			try(r, i)
		}
		for _, r := range l.positives.loose {
			try(r, i)
		}
	}
	// Words run together: "#iwanttodie", or "k i l l m y s e l f" joined by Normalize.
	for _, k := range keys {
		if len(k) < minGluedLen {
			continue
		}
		negs := findGlued(l.gluedNegs, k)
		for _, h := range findGlued(l.glued, k) {
			if better(h.r) && !covered(h, negs) {
				best, bestLoc = h.r.tier, h.r.loc
			}
		}
	}
	if best == TierNone {
		return Signal{}
	}
	return Signal{Tier: best, Locale: l.locales[bestLoc]}
}

// gluedHit is a phrase run together found at word[at:end].
type gluedHit struct {
	r       ref
	at, end int
}

// findGlued finds the phrases of m inside one word, looking each up by the bytes where
// it would start, so a long word costs one map lookup per byte.
func findGlued(m map[string][]gluedRef, word string) []gluedHit {
	var out []gluedHit
	for at := 0; at+minGluedLen <= len(word); at++ {
		for _, g := range m[word[at:at+minGluedLen]] {
			if strings.HasPrefix(word[at:], g.text) {
				out = append(out, gluedHit{g.r, at, at + len(g.text)})
			}
		}
	}
	return out
}

func covered(h gluedHit, negs []gluedHit) bool {
	for _, n := range negs {
		if n.at <= h.at && n.end >= h.end {
			return true
		}
	}
	return false
}
