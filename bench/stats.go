package bench

import (
	"bufio"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// latencies collects durations; safe for concurrent use.
type latencies struct {
	mu     sync.Mutex
	all    []time.Duration
	window []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, d)
	l.window = append(l.window, d)
	l.mu.Unlock()
}

func (l *latencies) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.all)
}

// recent returns the p99 of what was added since the last call, and forgets it.
func (l *latencies) recent() time.Duration {
	l.mu.Lock()
	w := l.window
	l.window = nil
	l.mu.Unlock()
	return quantile(sorted(w), 0.99)
}

// summary returns p50, p95, p99 and max of everything.
func (l *latencies) summary() (p50, p95, p99, max time.Duration) {
	l.mu.Lock()
	s := sorted(l.all)
	l.mu.Unlock()
	if len(s) == 0 {
		return 0, 0, 0, 0
	}
	return quantile(s, 0.50), quantile(s, 0.95), quantile(s, 0.99), s[len(s)-1]
}

func sorted(ds []time.Duration) []time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s
}

// quantile is the nearest-rank quantile of sorted durations.
func quantile(s []time.Duration, q float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	i := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func round(x float64, digits int) float64 {
	p := 1.0
	for i := 0; i < digits; i++ {
		p *= 10
	}
	if x >= 0 {
		return float64(int64(x*p+0.5)) / p
	}
	return -float64(int64(-x*p+0.5)) / p
}

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return round(float64(n)/d.Seconds(), 1)
}

// peakRSS reads the process's peak resident set size (VmHWM) in MB; ok is false where
// /proc is not available.
func peakRSS() (float64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "VmHWM:") {
			continue
		}
		fields := strings.Fields(strings.TrimPrefix(line, "VmHWM:"))
		if len(fields) == 0 {
			return 0, false
		}
		kb, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return 0, false
		}
		return round(kb/1024, 1), true
	}
	return 0, false
}
