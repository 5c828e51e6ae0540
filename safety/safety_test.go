package safety

import (
	"reflect"
	"strings"
	"testing"
)

func mustDefault(t *testing.T, locales ...string) *Lists {
	t.Helper()
	l, err := Default(locales...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestTier(t *testing.T) {
	for tier := TierNone; tier <= TierImminent; tier++ {
		got, err := ParseTier(" " + strings.ToUpper(tier.String()) + " ")
		if err != nil || got != tier {
			t.Errorf("ParseTier(%q) = %v, %v", tier.String(), got, err)
		}
	}
	if _, err := ParseTier("urgent"); err == nil {
		t.Error("ParseTier accepted an unknown tier")
	}
	if s := Tier(9).String(); s != "Tier(9)" {
		t.Errorf("Tier(9) = %q", s)
	}
	if !(TierNone < TierDistress && TierDistress < TierIdeation && TierIdeation < TierImminent) {
		t.Error("tiers are not in increasing severity")
	}
}

// TestSignalCarriesNoText keeps the text and the matched words out of a Signal, so no
// caller can log or forward them by accident.
func TestSignalCarriesNoText(t *testing.T) {
	typ := reflect.TypeFor[Signal]()
	var names []string
	for f := range typ.Fields() {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "Tier,Locale" {
		t.Fatalf("Signal has fields %v; it must hold only Tier and Locale", names)
	}
}

func TestDefault(t *testing.T) {
	cases := []struct {
		name    string
		locales []string
		want    []string
		err     string
	}{
		{"english", []string{"en"}, []string{"en"}, ""},
		{"both, in order", []string{"fr", "en"}, []string{"fr", "en"}, ""},
		{"region ignored", []string{"fr-CA", "en_GB"}, []string{"fr", "en"}, ""},
		{"duplicates once", []string{"en", "EN", "en-US"}, []string{"en"}, ""},
		{"unknown", []string{"en", "xx"}, nil, `no phrase lists for locale "xx" (available: en, fr)`},
		{"path tricks", []string{"../lists/en"}, nil, "no phrase lists"},
		{"none", nil, nil, "no locale given"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Default(tc.locales...)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := l.Locales(); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("locales = %v, want %v", got, tc.want)
			}
		})
	}
	if got := Available(); !reflect.DeepEqual(got, []string{"en", "fr"}) {
		t.Errorf("Available() = %v", got)
	}
}

// TestScreen covers the examples of each tier and the hard negatives the lists promise.
func TestScreen(t *testing.T) {
	lists := mustDefault(t, "en", "fr")
	cases := []struct {
		text string
		want Tier
	}{
		{"", TierNone},
		{"Can someone drive Rosa to chemo on Tuesday?", TierNone},
		// Distress.
		{"Honestly everyone would be better off without me", TierDistress},
		{"I can't go on", TierDistress},
		{"what's the point anymore", TierDistress},
		{"j'en peux plus", TierDistress},
		{"à quoi bon", TierDistress},
		{"chu pu capable", TierDistress},
		// Ideation.
		{"I want to die", TierIdeation},
		{"I want to kill myself", TierIdeation},
		{"I keep thinking about suicide", TierIdeation},
		{"je veux mourir", TierIdeation},
		{"je pense au suicide", TierIdeation},
		{"j'ai envie de me tuer", TierIdeation},
		{"j'ai pu le goût de vivre", TierIdeation},
		{"je veux m'enlever la vie", TierIdeation},
		{"des fois j'ai envie de me tirer une balle", TierIdeation},
		{"je pense a me suicidé", TierIdeation},
		{"je suis suicidaire", TierIdeation},
		{"thinking about suicde", TierIdeation},
		{"sucide", TierIdeation},
		{"kms", TierIdeation},
		{"I want to unalive", TierIdeation},
		// Imminent.
		{"I have the pills ready", TierImminent},
		{"tonight is the night I end it", TierImminent},
		{"this is my goodbye", TierImminent},
		{"j'ai acheté une corde", TierImminent},
		{"c'est mon dernier message", TierImminent},
		{"ce soir j'en finis", TierImminent},
		// The highest tier wins.
		{"I can't go on. Tonight is the night.", TierImminent},
		// Obfuscation.
		{"I w4nt t0 d1eeeee", TierIdeation},
		{"i want to k i l l myself", TierIdeation},
		{"k.i.l.l m-y-s-e-l-f", TierIdeation},
		{"#iwanttodie", TierIdeation},
		{"SU\u200bI\u200bCIDE", TierIdeation},
		{"JE VEUX MOURIR!!!", TierIdeation},
		// Hard negatives.
		{"this traffic is killing me", TierNone},
		{"je suis mort de rire", TierNone},
		{"I'm dying to see you", TierNone},
		{"that cake was to die for", TierNone},
		{"My mom died last week", TierNone},
		{"He chose medical assistance in dying", TierNone},
		{"L'aide médicale à mourir est prévue jeudi", TierNone},
		{"She passed peacefully last night", TierNone},
		{"We'll kill time at the café", TierNone},
		{"Suicide Squad is on tonight", TierNone},
		{"#suicidesquad", TierNone},
		{"Anyone want to watch Live and Let Die?", TierNone},
		{"Kill Bill is my favourite", TierNone},
		{"Mourir d'aimer passe ce soir", TierNone},
		{"je suis mort de fatigue", TierNone},
		{"I don't want to die in the hospital", TierNone},
		{"Our church hosts suicide prevention training", TierNone},
		// A negative cancels only a match it contains.
		{"I want to die, that cake was to die for", TierIdeation},
		{"je veux mourir, mort de rire", TierIdeation},
	}
	for _, tc := range cases {
		if got := lists.Screen(tc.text); got.Tier != tc.want {
			t.Errorf("Screen(%q) = %v, want %v", tc.text, got.Tier, tc.want)
		}
	}
}

// TestBilingual: a community writing in both languages screens with both lists, and a
// French phrase in an English message is caught and named as French.
func TestBilingual(t *testing.T) {
	text := "Thanks for the ride today. Honnêtement je veux mourir, I can't say it in English."
	both := mustDefault(t, "en", "fr")
	if got := both.Screen(text); got != (Signal{Tier: TierIdeation, Locale: "fr"}) {
		t.Errorf("en+fr: %+v, want ideation from the French list", got)
	}
	if got := mustDefault(t, "en").Screen(text); got.Tier != TierNone {
		t.Errorf("en alone: %+v; the French phrase should need the French list", got)
	}
	// At the same tier the first locale names the signal.
	mixed := "I want to die, je veux mourir"
	if got := mustDefault(t, "fr", "en").Screen(mixed); got.Locale != "fr" {
		t.Errorf("fr,en: %+v, want the French list first", got)
	}
	if got := both.Screen(mixed); got.Locale != "en" {
		t.Errorf("en,fr: %+v, want the English list first", got)
	}
}

func TestExtend(t *testing.T) {
	type check struct {
		text string
		want Signal
	}
	cases := []struct {
		name   string
		ext    Extension
		before []check
		after  []check
	}{
		{
			name:   "a local landmark as imminent",
			ext:    Extension{Locale: "en", Imminent: []string{"going to the bridge"}},
			before: []check{{"I'm going to the bridge after dinner", Signal{}}},
			after:  []check{{"I'm going to the bridge after dinner", Signal{TierImminent, "en"}}},
		},
		{
			name: "a negative cancels its own false alarm",
			ext: Extension{Locale: "en", Imminent: []string{"going to the bridge"},
				Negatives: []string{"going to the bridge (club|tournament)"}},
			after: []check{
				{"Who's going to the bridge club on Thursday?", Signal{}},
				{"I'm going to the bridge, goodbye", Signal{TierImminent, "en"}},
			},
		},
		{
			name:   "written with capitals and accents",
			ext:    Extension{Locale: "FR-ca", Distress: []string{"Je suis ÉCŒURÉ de toute"}},
			before: []check{{"je suis ecoeure de toute", Signal{}}},
			after:  []check{{"je suis ecoeure de toute", Signal{TierDistress, "fr"}}},
		},
		{
			name:   "a language of its own",
			ext:    Extension{Locale: "es", Ideation: []string{"quiero morir"}},
			before: []check{{"quiero morir", Signal{}}},
			after:  []check{{"Quiero MORIR", Signal{TierIdeation, "es"}}},
		},
		{
			name:   "a negative reaches the defaults",
			ext:    Extension{Locale: "en", Negatives: []string{"{0,2} suicide (runs|drills|sprints)"}},
			before: []check{{"coach made us do suicide drills", Signal{TierIdeation, "en"}}},
			after:  []check{{"coach made us do suicide drills", Signal{}}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := mustDefault(t, "en", "fr")
			for _, c := range tc.before {
				if got := l.Screen(c.text); got != c.want {
					t.Errorf("before: Screen(%q) = %+v, want %+v", c.text, got, c.want)
				}
			}
			if err := l.Extend(tc.ext); err != nil {
				t.Fatal(err)
			}
			for _, c := range tc.after {
				if got := l.Screen(c.text); got != c.want {
					t.Errorf("after: Screen(%q) = %+v, want %+v", c.text, got, c.want)
				}
			}
		})
	}
}

func TestExtendRejects(t *testing.T) {
	long := strings.Repeat("word ", 41)
	cases := []struct {
		name string
		ext  Extension
		want string
	}{
		{"no locale", Extension{Imminent: []string{"going to the bridge"}}, "locale"},
		{"not a language code", Extension{Locale: "english", Imminent: []string{"going to the bridge"}}, "locale"},
		{"empty phrase", Extension{Locale: "en", Distress: []string{""}}, "empty phrase"},
		{"blank phrase", Extension{Locale: "en", Distress: []string{"   "}}, "empty phrase"},
		{"nothing left after normalising", Extension{Locale: "en", Distress: []string{"!!! ..."}}, "no letters or digits"},
		{"too long", Extension{Locale: "en", Ideation: []string{long}}, "longer than 200"},
		{"too many words", Extension{Locale: "en", Ideation: []string{"one two three four five six seven eight nine ten eleven twelve thirteen"}}, "more than 12 words"},
		{"too broad", Extension{Locale: "en", Ideation: []string{"i am"}}, "three letters"},
		{"only optional", Extension{Locale: "en", Ideation: []string{"(bridge|tracks)?"}}, "three letters"},
		{"short prefix", Extension{Locale: "en", Ideation: []string{"ki*"}}, "too many words"},
		{"gap first", Extension{Locale: "en", Imminent: []string{"{0,2} bridge"}}, "begin or end with a gap"},
		{"gap too wide", Extension{Locale: "en", Imminent: []string{"going {0,9} bridge"}}, "wider than 3"},
		{"bad gap", Extension{Locale: "en", Imminent: []string{"going {x} bridge"}}, "not a gap"},
		{"unclosed group", Extension{Locale: "en", Imminent: []string{"(going|heading to the bridge"}}, "without its )"},
		{"nested group", Extension{Locale: "en", Imminent: []string{"(going (to|at)) bridge"}}, "pattern signs"},
		{"empty choice", Extension{Locale: "en", Imminent: []string{"going to the (bridge|)"}}, "empty choice"},
		{"sign glued to a word", Extension{Locale: "en", Imminent: []string{"going(to) bridge"}}, "pattern signs"},
		{"bad negative", Extension{Locale: "en", Negatives: []string{"(club"}}, "negatives"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := mustDefault(t, "en")
			// A good phrase next to the bad one must not be added either.
			ext := tc.ext
			ext.Imminent = append(ext.Imminent, "walking to the quarry")
			err := l.Extend(ext)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			if got := l.Screen("walking to the quarry"); got.Tier != TierNone {
				t.Errorf("a failed Extend still added a phrase: %+v", got)
			}
		})
	}
}

// TestPatterns pins the phrase syntax down on small lists.
func TestPatterns(t *testing.T) {
	cases := []struct {
		phrase, text string
		want         bool
	}{
		{"want to die", "i want to die", true},
		{"want to die", "i want to diet", false},
		{"want to die", "i really want to die", true},
		{"want to {0,2} die", "want to just fucking die", true},
		{"want to {0,2} die", "want to go and then die", false},
		{"want to {1,2} die", "want to die", false},
		{"(kill|end) my self?", "end my", true},
		{"(kill|end) my self?", "kill my self", true},
		{"(kill|end) my self?", "hurt my self", false},
		{"(i am|im) done", "I am done", true},
		{"(i am|im) done", "I'm done", true},
		{"suicid*", "suicidaire", true},
		{"suicid*", "unsuicidal", false},
		{"kill myself", "killl mysellllf", true},
		{"kill myself", "#killmyself", true},
		{"kill myself", "kill", false},
		{"j'en peux plus", "jen peux plus", true},
		{"j'en peux plus", "j en peux plus", true},
		{"à quoi bon", "A QUOI BON", true},
	}
	for _, tc := range cases {
		l := &Lists{}
		if err := l.Extend(Extension{Locale: "en", Distress: []string{tc.phrase}}); err != nil {
			t.Fatalf("%q: %v", tc.phrase, err)
		}
		if got := l.Screen(tc.text).Tier == TierDistress; got != tc.want {
			t.Errorf("%q on %q: %v, want %v", tc.phrase, tc.text, got, tc.want)
		}
	}
}

// TestListsReadable keeps every embedded phrase valid and each tier populated.
func TestListsReadable(t *testing.T) {
	for _, loc := range Available() {
		l := mustDefault(t, loc)
		counts := map[Tier]int{}
		for _, rs := range l.positives.first {
			for _, r := range rs {
				counts[r.tier]++
			}
		}
		for _, r := range l.positives.loose {
			counts[r.tier]++
		}
		for tier := TierDistress; tier <= TierImminent; tier++ {
			if counts[tier] == 0 {
				t.Errorf("%s: no %s phrases", loc, tier)
			}
		}
	}
}
