package safety

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A phrase in a list is a pattern over whole words, small enough to read aloud:
//
//	want to die              the words in this order
//	suicid*                  a word that starts with "suicid" (suicide, suicidal, suicidaire)
//	just?                    an optional word
//	(kill|end) myself        one of several words or word sequences: (i am|im)
//	(really|truly)?          an optional choice
//	want to {0,2} die        a gap of 0 to 2 words of any kind ({2} is 0 to 2 as well)
//
// Words are written as people write them, with accents and apostrophes; each is
// normalised like a message. Letters doubled in a message or a phrase count once, so
// "kill" also matches "kil" and "killll".
type pattern struct {
	src   string
	elems []elem
	// glued are the phrase's plain readings run together ("killmyself"), found inside one
	// word of a message: hashtags and spelled-out letters that Normalize joined.
	glued []string
	// body is a negative's phrase after its leading gap of lead words at most, so the
	// negative can be found through its first word like any other phrase.
	body          *pattern
	leadMin, lead int
}

// elem is one step of a pattern: a choice of word sequences or a gap.
type elem struct {
	alts     [][]word
	optional bool
	gapMin   int
	gapMax   int
}

type word struct {
	key    string // normalised and squeezed
	prefix bool
}

// Limits that keep a phrase specific enough to be worth an alarm.
const (
	maxPhraseRunes = 200
	maxPhraseWords = 12
	maxGap         = 3
	maxSpan        = 32 // words and gaps together; longest keeps positions in 64 bits
	minGluedLen    = 8
	maxGlued       = 256 // readings of one phrase run together, at most
)

// compile parses one phrase. Negatives may begin or end with a gap, so a negative can
// cover a match a few words away ("{0,3} goodbye for now").
func compile(src string, negative bool) (*pattern, error) {
	s := strings.TrimSpace(src)
	switch {
	case s == "":
		return nil, errors.New("empty phrase")
	case utf8.RuneCountInString(s) > maxPhraseRunes:
		return nil, fmt.Errorf("longer than %d characters", maxPhraseRunes)
	}
	p := &pattern{src: s}
	for s != "" {
		var e elem
		var err error
		switch s[0] {
		case '(':
			end := strings.IndexByte(s, ')')
			if end < 0 {
				return nil, errors.New("a ( without its )")
			}
			e, err = group(s[1:end])
			s = s[end+1:]
			if strings.HasPrefix(s, "?") {
				e.optional, s = true, s[1:]
			}
		case '{':
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return nil, errors.New("a { without its }")
			}
			e, err = gap(s[1:end])
			s = s[end+1:]
		default:
			end := strings.IndexAny(s, " \t")
			if end < 0 {
				end = len(s)
			}
			tok := s[:end]
			s = s[end:]
			opt := strings.HasSuffix(tok, "?")
			var seq []word
			if seq, err = sequence(strings.TrimSuffix(tok, "?")); err == nil {
				e = elem{alts: [][]word{seq}, optional: opt}
			}
		}
		if err != nil {
			return nil, err
		}
		if s != "" && s[0] != ' ' && s[0] != '\t' {
			return nil, fmt.Errorf("put a space before %q", s)
		}
		s = strings.TrimSpace(s)
		p.elems = append(p.elems, e)
	}
	return p, p.check(negative)
}

// group parses the inside of (a|b c|d*).
func group(s string) (elem, error) {
	var e elem
	for _, alt := range strings.Split(s, "|") {
		var seq []word
		for _, tok := range strings.Fields(alt) {
			ws, err := sequence(tok)
			if err != nil {
				return e, err
			}
			seq = append(seq, ws...)
		}
		if len(seq) == 0 {
			return e, errors.New("an empty choice in ( | ); mark the group optional with ? instead")
		}
		e.alts = append(e.alts, seq)
	}
	return e, nil
}

// gap parses the inside of {n,m} or {m}.
func gap(s string) (elem, error) {
	lo, hi, found := strings.Cut(s, ",")
	if !found {
		lo, hi = "0", s
	}
	n, err1 := strconv.Atoi(strings.TrimSpace(lo))
	m, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || n < 0 || m < n || m == 0 {
		return elem{}, fmt.Errorf("{%s} is not a gap: write {0,2} for zero to two words", s)
	}
	if m > maxGap {
		return elem{}, fmt.Errorf("gap {%s} is wider than %d words", s, maxGap)
	}
	return elem{gapMin: n, gapMax: m}, nil
}

// sequence normalises one written word, which may become several ("c'est-à-dire").
func sequence(tok string) ([]word, error) {
	prefix := strings.HasSuffix(tok, "*")
	tok = strings.TrimSuffix(tok, "*")
	if strings.ContainsAny(tok, "()|{}*?") {
		return nil, fmt.Errorf("%q mixes pattern signs into a word", tok)
	}
	parts := strings.Fields(Normalize(tok))
	if len(parts) == 0 {
		return nil, fmt.Errorf("%q has no letters or digits", tok)
	}
	ws := make([]word, len(parts))
	for i, p := range parts {
		ws[i] = word{key: squeeze(p)}
	}
	ws[len(ws)-1].prefix = prefix
	if prefix && utf8.RuneCountInString(ws[len(ws)-1].key) < 3 {
		return nil, fmt.Errorf("%s* would match too many words", tok)
	}
	return ws, nil
}

// check rejects phrases that would match far too much, and works out the glued form.
func (p *pattern) check(negative bool) error {
	words, span, long := 0, 0, false
	for i, e := range p.elems {
		if e.alts == nil {
			if !negative && (i == 0 || i == len(p.elems)-1) {
				return errors.New("a phrase cannot begin or end with a gap")
			}
			span += e.gapMax
			continue
		}
		n := 0
		for _, alt := range e.alts {
			n = max(n, len(alt))
			if !e.optional {
				for _, w := range alt {
					long = long || utf8.RuneCountInString(w.key) >= 3
				}
			}
		}
		words += n
		span += n
	}
	switch {
	case words == 0:
		return errors.New("no words")
	case words > maxPhraseWords:
		return fmt.Errorf("more than %d words", maxPhraseWords)
	case span > maxSpan:
		return fmt.Errorf("spans more than %d words with its gaps", maxSpan)
	case !long:
		return errors.New("needs at least one required word of three letters or more")
	}
	p.glued = p.readings()
	if first := p.elems[0]; first.alts == nil && len(p.elems) > 1 {
		p.body = &pattern{src: p.src, elems: p.elems[1:]}
		p.leadMin, p.lead = first.gapMin, first.gapMax
	}
	return nil
}

// readings spells out the phrase's plain readings (each choice taken, gaps empty) with
// the words run together; a phrase with a word prefix or a gap of at least one word has
// none.
func (p *pattern) readings() []string {
	type reading struct {
		text  string
		words int
	}
	cur := []reading{{}}
	for _, e := range p.elems {
		if e.alts == nil {
			if e.gapMin > 0 {
				return nil
			}
			continue
		}
		var next []reading
		if e.optional {
			next = append(next, cur...)
		}
		for _, alt := range e.alts {
			var b strings.Builder
			for _, w := range alt {
				if w.prefix {
					return nil
				}
				b.WriteString(w.key)
			}
			for _, r := range cur {
				next = append(next, reading{r.text + b.String(), r.words + len(alt)})
			}
		}
		if len(next) > maxGlued {
			return nil
		}
		cur = next
	}
	var out []string
	for _, r := range cur {
		if g := squeeze(r.text); r.words >= 2 && len(g) >= minGluedLen && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// longest returns the farthest word a match starting at word i reaches, or -1. Bit k of
// a set is word i+k; check keeps a pattern's span under 64 words.
func (p *pattern) longest(keys []string, i int) int {
	cur := uint64(1)
	for _, e := range p.elems {
		var next uint64
		for rest := cur; rest != 0; rest &= rest - 1 {
			k := bits.TrailingZeros64(rest)
			if e.alts == nil {
				for g := e.gapMin; g <= e.gapMax && i+k+g <= len(keys); g++ {
					next |= 1 << (k + g)
				}
				continue
			}
			if e.optional {
				next |= 1 << k
			}
			for _, alt := range e.alts {
				if matchSeq(alt, keys, i+k) {
					next |= 1 << (k + len(alt))
				}
			}
		}
		if next == 0 {
			return -1
		}
		cur = next
	}
	if span := 63 - bits.LeadingZeros64(cur); span > 0 {
		return i + span
	}
	return -1
}

// anchors returns the words a match must start with, or nil when it may start with any
// word (an optional first word, a gap, a word prefix).
func (p *pattern) anchors() []string {
	first := p.elems[0]
	if first.alts == nil || first.optional {
		return nil
	}
	var out []string
	for _, alt := range first.alts {
		if alt[0].prefix {
			return nil
		}
		if !slices.Contains(out, alt[0].key) {
			out = append(out, alt[0].key)
		}
	}
	return out
}

func matchSeq(seq []word, keys []string, pos int) bool {
	if pos+len(seq) > len(keys) {
		return false
	}
	for k, w := range seq {
		key := keys[pos+k]
		if w.prefix {
			if !strings.HasPrefix(key, w.key) {
				return false
			}
		} else if key != w.key {
			return false
		}
	}
	return true
}
