package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// zeros makes code words the same on every run: the first word of each list.
var update = flag.Bool("update", false, "rewrite the golden transcripts")

// TestConsoleTranscripts plays each script in testdata/transcripts through `tend
// console` on a fresh database with a fixed clock and compares what everyone saw with
// the golden file beside it.
func TestConsoleTranscripts(t *testing.T) {
	scripts, err := filepath.Glob("testdata/transcripts/*.txt")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, script := range scripts {
		name := strings.TrimSuffix(filepath.Base(script), ".txt")
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(script)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			env := map[string]string{"TEND_DATA_DIR": dir, "TEND_LOCALE": "en", "TZ": "America/Toronto"}
			var out, errOut bytes.Buffer
			args := append([]string{"console", "--fresh", "--now", "2026-11-23T10:00:00-05:00"}, scriptArgs(string(in))...)
			code := run(context.Background(), args, bytes.NewReader(in), &out, &errOut, func(k string) string { return env[k] })
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			golden := strings.TrimSuffix(script, ".txt") + ".golden"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got := out.String(); got != string(want) {
				t.Errorf("transcript differs from %s (run with -update after checking):\n%s", golden, diff(string(want), got))
			}
			if strings.Contains(errOut.String(), "12 Rue Rachel") {
				t.Error("a private address reached the console's stderr")
			}
			logs, _ := os.ReadFile(filepath.Join(dir, "console.log"))
			for _, secret := range []string{"12 Rue Rachel", "514-555-0199", "walker", "No nuts"} {
				if bytes.Contains(logs, []byte(secret)) {
					t.Errorf("%q reached the log", secret)
				}
			}
		})
	}
}

// scriptArgs reads the console flags a script asks for on its first line:
// "# console: --empty --admins maya".
func scriptArgs(script string) []string {
	first, _, _ := strings.Cut(script, "\n")
	if rest, ok := strings.CutPrefix(strings.TrimSpace(first), "# console:"); ok {
		return strings.Fields(rest)
	}
	return nil
}

// diff shows the first differing lines.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + "\nwant: " + a + "\n got: " + b
		}
	}
	return ""
}
