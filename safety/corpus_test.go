package safety

// Evaluation on labelled corpora (testdata/labelled_*.tsv) and on ordinary community
// traffic (testdata/community_*.txt).
//
// Held-out split: a sentence is held out when the FNV-1a 32-bit hash of its text is 0
// modulo 3, so about a third of each file, fixed by the text alone (adding a line never
// moves another one). The lists were tuned on the other two thirds only: the training
// subtests print every miss and false alarm, the held-out subtests print counts and
// never a sentence. Keep it that way when tuning: run
//
//	go test -run 'TestCorpus/.*/train' -v ./safety/
//
// read its misses, change the lists, and look at the held-out figures only at the end.
// A held-out sentence that has been read while tuning is no longer held out.

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Thresholds asserted on the held-out third of each labelled corpus and on the
// community corpora.
const (
	minRecall       = 0.95
	minPrecision    = 0.80
	maxCommunityHit = 0.02
)

type labelled struct {
	tier Tier
	text string
}

func heldOut(text string) bool {
	h := fnv.New32a()
	h.Write([]byte(text))
	return h.Sum32()%3 == 0
}

// readLines returns a data file's lines, skipping blanks and # comments.
func readLines(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if prev, dup := seen[line]; dup {
			t.Errorf("%s:%d repeats line %d", name, n, prev)
		}
		seen[line] = n
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func readLabelled(t *testing.T, name string) []labelled {
	t.Helper()
	var out []labelled
	for _, line := range readLines(t, name) {
		tier, text, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("%s: %q has no tab between tier and sentence", name, line)
		}
		tr, err := ParseTier(tier)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, labelled{tr, strings.TrimSpace(text)})
	}
	return out
}

// scores counts outcomes on one part of a corpus.
type scores struct {
	total, crisis, flagged, hits int
	perTier                      [TierImminent + 1][2]int // [true tier] -> {flagged, total}
	exact                        int                      // crisis sentences given their own tier
	misses, alarms               []string
}

func (s *scores) add(l labelled, got Signal) {
	s.total++
	flagged := got.Tier > TierNone
	if flagged {
		s.flagged++
	}
	s.perTier[l.tier][1]++
	if flagged {
		s.perTier[l.tier][0]++
	}
	if l.tier == TierNone {
		if flagged {
			s.alarms = append(s.alarms, fmt.Sprintf("%s for %q", got.Tier, l.text))
		}
		return
	}
	s.crisis++
	if flagged {
		s.hits++
	} else {
		s.misses = append(s.misses, fmt.Sprintf("%s %q", l.tier, l.text))
	}
	if got.Tier == l.tier {
		s.exact++
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func (s *scores) recall() float64    { return ratio(s.hits, s.crisis) }
func (s *scores) precision() float64 { return ratio(s.hits, s.flagged) }

func (s *scores) report(t *testing.T) {
	t.Helper()
	t.Logf("%d sentences, %d crisis, %d flagged: recall %.3f (%d/%d), precision %.3f (%d/%d), same tier %d/%d",
		s.total, s.crisis, s.flagged, s.recall(), s.hits, s.crisis, s.precision(), s.hits, s.flagged, s.exact, s.crisis)
	for tier := TierDistress; tier <= TierImminent; tier++ {
		c := s.perTier[tier]
		t.Logf("  recall %-8s %.3f (%d/%d)", tier, ratio(c[0], c[1]), c[0], c[1])
	}
	c := s.perTier[TierNone]
	t.Logf("  false alarms on none: %d/%d", c[0], c[1])
}

func TestCorpus(t *testing.T) {
	for _, loc := range []string{"en", "fr"} {
		t.Run(loc, func(t *testing.T) {
			lists, err := Default(loc)
			if err != nil {
				t.Fatal(err)
			}
			corpus := readLabelled(t, "labelled_"+loc+".tsv")
			var train, held scores
			for _, l := range corpus {
				if heldOut(l.text) {
					held.add(l, lists.Screen(l.text))
				} else {
					train.add(l, lists.Screen(l.text))
				}
			}
			t.Run("train", func(t *testing.T) {
				train.report(t)
				for _, m := range train.misses {
					t.Logf("  missed %s", m)
				}
				for _, a := range train.alarms {
					t.Logf("  false alarm %s", a)
				}
				check(t, &train)
			})
			t.Run("heldout", func(t *testing.T) {
				held.report(t) // counts only: see the comment at the top of this file
				check(t, &held)
			})
		})
	}
}

func check(t *testing.T, s *scores) {
	t.Helper()
	if s.total < 80 || s.crisis < 25 {
		t.Fatalf("only %d sentences (%d crisis): too few to measure", s.total, s.crisis)
	}
	if r := s.recall(); r < minRecall {
		t.Errorf("recall %.3f, want at least %.2f", r, minRecall)
	}
	if p := s.precision(); p < minPrecision {
		t.Errorf("precision %.3f, want at least %.2f", p, minPrecision)
	}
}

// TestCorpusShape keeps the corpora large and balanced enough to mean something.
func TestCorpusShape(t *testing.T) {
	for _, loc := range []string{"en", "fr"} {
		corpus := readLabelled(t, "labelled_"+loc+".tsv")
		var crisis, held int
		for _, l := range corpus {
			if l.tier > TierNone {
				crisis++
			}
			if heldOut(l.text) {
				held++
			}
		}
		share := ratio(crisis, len(corpus))
		t.Logf("%s: %d sentences, %.0f%% crisis, %d held out", loc, len(corpus), 100*share, held)
		if len(corpus) < 300 || share < 0.3 || share > 0.5 {
			t.Errorf("%s: %d sentences with %.0f%% crisis; want 300 or more, 30-50%% crisis", loc, len(corpus), 100*share)
		}
		if f := ratio(held, len(corpus)); f < 0.25 || f > 0.42 {
			t.Errorf("%s: %.2f held out, want about a third", loc, f)
		}
		if n := len(readLines(t, "community_"+loc+".txt")); n < 200 {
			t.Errorf("community_%s.txt: %d messages, want 200 or more", loc, n)
		}
	}
}

// TestCommunity bounds false alarms on ordinary traffic of a palliative and grief
// community, screened with both languages as such a community would.
func TestCommunity(t *testing.T) {
	lists, err := Default("en", "fr")
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range []string{"en", "fr"} {
		t.Run(loc, func(t *testing.T) {
			lines := readLines(t, "community_"+loc+".txt")
			flagged := 0
			for _, line := range lines {
				if sig := lists.Screen(line); sig.Tier > TierNone {
					flagged++
					t.Logf("  flagged %s (%s list): %q", sig.Tier, sig.Locale, line)
				}
			}
			rate := ratio(flagged, len(lines))
			t.Logf("%d/%d flagged: %.1f%%", flagged, len(lines), 100*rate)
			if rate > maxCommunityHit {
				t.Errorf("%.1f%% of ordinary messages flagged, want at most %.0f%%", 100*rate, 100*maxCommunityHit)
			}
		})
	}
}
