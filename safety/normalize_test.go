package safety

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"only punctuation", "?!… -- ", ""},
		{"case and spaces", "  I   Want\tTO\n\nDie  ", "i want to die"},
		{"accents", "À quoi bon, c'était l'été", "a quoi bon cetait lete"},
		{"decomposed accents", "e\u0301te\u0301", "ete"},
		{"apostrophes of every kind", "can't can’t can`t j'en j’en", "cant cant cant jen jen"},
		{"french elision typed with a space", "j ai pu le goût de vivre", "jai pu le gout de vivre"},
		{"elision needs a vowel next", "c fini pour moi", "c fini pour moi"},
		{"punctuation to spaces", "kill-myself...now!!!", "kill myself now"},
		{"zero-width characters", "su\u200bi\u200ccide\u200d \ufeffnow\u00ad", "suicide now"},
		{"elongated letters", "sooooo tired, dieeee, nooooo", "soo tired diee noo"},
		{"ordinary doubles kept", "kill all the bees", "kill all the bees"},
		{"spelled out", "i want to k i l l myself", "i want to kill myself"},
		{"spelled with dots and dashes", "k.i.l.l m-y-s-e-l-f", "killmyself"},
		{"spelled with a leet digit", "k 1 l l me", "kill me"},
		{"ordinary single letters", "il y a à faire", "il y a a faire"},
		{"leetspeak", "su1c1d3 d13 k1ll $elf 3nd 1t @ll", "suicide die kill self end it all"},
		{"numbers stay numbers", "call 988 or 1 866 277 3553 at 3 pm", "call 988 or 1 866 277 3553 at 3 pm"},
		{"lone signs dropped", "$ 5 @ home", "5 home"},
		{"full width and ligatures", "ＫＩＬＬ ﬁnal", "kill final"},
		{"folded letters", "sœur ÆON straße", "soeur aeon strasse"},
		{"emoji", "i'm dead 💀💀 lol", "im dead lol"},
		{"other scripts kept", "Привет мир", "привет мир"},
		{"invalid utf-8", "die\xff\xfenow", "die now"},
		{"capital with no lower case", "\u03d2", "υ"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Normalize(tc.in)
			if got != tc.want {
				t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if again := Normalize(got); again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestSqueeze(t *testing.T) {
	cases := map[string]string{"kill": "kil", "diee": "die", "soo": "so", "mourrir": "mourir", "1000": "1000", "": ""}
	for in, want := range cases {
		if got := squeeze(in); got != want {
			t.Errorf("squeeze(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzNormalize checks what every caller relies on: no panic, idempotence, and an
// output of lower-case words without marks, separated by single spaces.
func FuzzNormalize(f *testing.F) {
	seeds := []string{
		"", " ", "I want to die", "J'EN PEUX PLUS", "k i l l m y s e l f", "k 1 l l", "d1333",
		"soooooo dieeeee", "su\u200bicide", "ＫＩＬＬ", "e\u0301\u0301\u0301", "\xff\xfe", "ǅ ǈ ǋ",
		"İstanbul", "ẞ", "\u03d2\u03d3", "\u1f88", "ﷺ", "$$$ @@@ 5$", "a a a", "j a", "x y $$ z",
		"1 3 5 a", "l j ai", "d j ai", "ſ", "\u2126\u212a", "🙂🙃", "\t\n\r\v\f", "a@b$c",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	lists, err := Default("en", "fr")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Normalize(s)
		if again := Normalize(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("%q -> invalid UTF-8 %q", s, got)
		}
		if strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") || strings.Contains(got, "  ") {
			t.Fatalf("%q -> %q: stray spaces", s, got)
		}
		for _, r := range got {
			switch {
			case unicode.IsUpper(r) || unicode.IsTitle(r):
				t.Fatalf("%q -> %q keeps upper case %q", s, got, r)
			case unicode.Is(unicode.M, r):
				t.Fatalf("%q -> %q keeps a combining mark %U", s, got, r)
			case r != ' ' && !unicode.IsLetter(r) && !unicode.IsDigit(r):
				t.Fatalf("%q -> %q keeps %U", s, got, r)
			}
		}
		// Screening anything must not panic either.
		lists.Screen(s)
	})
}
