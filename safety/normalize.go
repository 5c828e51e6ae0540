package safety

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize reduces text to the form the phrase lists are matched against: lower-case
// words of letters and digits separated by single spaces. Accents, capitals, punctuation,
// zero-width characters, leetspeak ("k1ll"), elongated letters ("dieeee") and spaced-out
// letters ("k i l l") are undone, so a list needs one spelling per phrase instead of dozens.
// Apostrophes join the words they sit in ("can't" is "cant", "j'en" is "jen") because people
// drop them as often as they type them, and a French elision typed with a space ("j ai")
// is joined the same way. Normalize never fails and Normalize(Normalize(s)) == Normalize(s).
func Normalize(s string) string {
	s = strings.ToValidUTF8(s, " ")
	if !isASCII(s) {
		s = norm.NFKD.String(s) // ASCII is already decomposed
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		foldRune(&b, r, 0)
	}
	words := strings.Fields(b.String())
	out := words[:0]
	for _, w := range words {
		if w = unleet(w); w != "" {
			out = append(out, w)
		}
	}
	out = joinSpelled(out)
	out = joinElisions(out)
	return strings.Join(out, " ")
}

// folds are letters that neither NFKD nor lower-casing take apart but that people type
// either way ("sœur" and "soeur").
var folds = map[rune]string{
	'œ': "oe", 'æ': "ae", 'ß': "ss", 'ø': "o", 'đ': "d", 'ð': "d", 'ł': "l", 'ı': "i",
	'ħ': "h", 'þ': "th", 'ŀ': "l", 'ĸ': "k",
}

// foldRune writes r lower-cased and without marks, a space for anything that is not part
// of a word, and nothing for characters people never mean (zero-width, format) and for
// apostrophes. depth bounds the re-decomposition of a lower-cased letter.
func foldRune(b *strings.Builder, r rune, depth int) {
	switch {
	case unicode.Is(unicode.M, r), unicode.Is(unicode.Cf, r), isApostrophe(r):
		return
	}
	if unicode.IsUpper(r) || unicode.IsTitle(r) {
		r = unicode.ToLower(r)
		// A few capitals lower-case to a letter NFKD would still take apart.
		if s := string(r); depth == 0 && !norm.NFKD.IsNormalString(s) {
			for _, q := range norm.NFKD.String(s) {
				foldRune(b, q, depth+1)
			}
			return
		}
	}
	if f, ok := folds[r]; ok {
		b.WriteString(f)
		return
	}
	switch {
	case unicode.IsUpper(r) || unicode.IsTitle(r):
		// A capital without a lower-case form cannot be matched by any list.
		b.WriteByte(' ')
	case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '@' || r == '$':
		b.WriteRune(r)
	default:
		b.WriteByte(' ')
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isApostrophe(r rune) bool {
	switch r {
	case '\'', '`', '\u2018', '\u2019', '\u201B', '\u02BC', '\u02BB', '\u02B9', '\u2032', '\uFF07':
		return true
	}
	return false
}

// leet maps the digits and signs that stand for letters inside a word.
var leet = map[rune]rune{'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's'}

// unleet reads a word with at least one letter as leetspeak ("d13" is "die"); a word of
// digits stays a number ("988", "3 pm") and lone signs are dropped. Then runs of three or
// more of one letter shrink to two, keeping the doubles of ordinary spelling ("kill").
func unleet(w string) string {
	hasLetter, hasLeet := false, false
	for _, r := range w {
		_, l := leet[r]
		hasLeet = hasLeet || l
		hasLetter = hasLetter || unicode.IsLetter(r)
	}
	if !hasLeet {
		return shrinkRuns(w)
	}
	var b strings.Builder
	for _, r := range w {
		if hasLetter {
			if m, ok := leet[r]; ok {
				r = m
			}
		} else if r == '@' || r == '$' {
			continue
		}
		b.WriteRune(r)
	}
	return shrinkRuns(b.String())
}

// shrinkRuns caps runs of one letter at two.
func shrinkRuns(w string) string {
	if !hasRun(w, 3) {
		return w
	}
	var b strings.Builder
	var prev rune
	n := 0
	for _, r := range w {
		if r == prev && unicode.IsLetter(r) {
			n++
		} else {
			prev, n = r, 1
		}
		if n <= 2 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// single reports a one-character word that may be part of a spelled-out word.
func single(w string) bool {
	r, size := utf8.DecodeRuneInString(w)
	if size != len(w) {
		return false
	}
	_, isLeet := leet[r]
	return unicode.IsLetter(r) || isLeet
}

// wordLetters are single letters that are words by themselves ("i", "a", French "y",
// "à"); a run made only of them is ordinary text ("il y a à faire"), not a spelled word.
const wordLetters = "aeiouy"

// joinSpelled joins three or more single letters in a row ("k i l l") into one word.
func joinSpelled(words []string) []string {
	out := words[:0:0]
	for i := 0; i < len(words); {
		j := i
		spelled := false
		for j < len(words) && single(words[j]) {
			if r, _ := utf8.DecodeRuneInString(words[j]); unicode.IsLetter(r) && !strings.ContainsRune(wordLetters, r) {
				spelled = true
			}
			j++
		}
		if j-i >= 3 && spelled {
			out = append(out, unleet(strings.Join(words[i:j], "")))
			i = j
			continue
		}
		if j == i {
			j++
		}
		out = append(out, words[i:j]...)
		i = j
	}
	return out
}

// elided are the French letters that lose their vowel before a vowel or h ("j'ai",
// "l'hôpital", "m'enlever", "c'est", "d'un").
const elided = "jlmtsndc"

// joinElisions joins an elided letter typed with a space to its word ("j ai" is "jai"),
// the form it has when the apostrophe is typed or dropped.
func joinElisions(words []string) []string {
	out := words[:0:0]
	for i := 0; i < len(words); i++ {
		w := words[i]
		if len(w) == 1 && strings.Contains(elided, w) && i+1 < len(words) {
			next := words[i+1]
			if r, _ := utf8.DecodeRuneInString(next); strings.ContainsRune("aeiouyh", r) && len(next) > 1 {
				out = append(out, w+next)
				i++
				continue
			}
		}
		out = append(out, w)
	}
	return out
}

// squeeze folds every run of one letter to a single letter. Words are compared squeezed,
// so "kill", "kil" and "killl" are one word, and "dieeee" (normalised to "diee") is "die".
func squeeze(w string) string {
	if !hasRun(w, 2) {
		return w
	}
	var b strings.Builder
	var prev rune
	for i, r := range w {
		if i > 0 && r == prev && unicode.IsLetter(r) {
			continue
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// hasRun reports whether w repeats one letter n times in a row.
func hasRun(w string, n int) bool {
	var prev rune
	k := 0
	for _, r := range w {
		if r == prev && unicode.IsLetter(r) {
			if k++; k >= n {
				return true
			}
		} else {
			prev, k = r, 1
		}
	}
	return false
}
