// Package obs is tend's observability: Prometheus metrics on a registry of their own,
// and the HTTP endpoints /metrics, /healthz and /readyz.
//
// Every label value comes from a small fixed set, so a bug or a hostile payload cannot
// create unbounded time series. A value outside its set is counted as "other":
//
//	platform          console, slack, discord, mattermost, bench
//	event kind        command, button, text, form
//	event outcome     ok, duplicate, refused, error, unavailable
//	delivery outcome  sent, retry, rate_limited, failed
//	job kind          lowercase identifiers ([a-z][a-z0-9_]*, at most 40 characters), the
//	                  first 32 distinct ones seen; job kinds are names in code, never input
//
// Metrics never carry ids, names or message text: those belong in the logs, and only
// ids at that.
package obs

import (
	"database/sql"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Other is the label value for anything outside a label's set.
const Other = "other"

// Label value sets; see the package comment.
var (
	Platforms        = []string{"console", "slack", "discord", "mattermost", "loopback", "bench"}
	EventKinds       = []string{"command", "button", "text", "form"}
	EventOutcomes    = []string{"ok", "duplicate", "refused", "error", "unavailable"}
	DeliveryOutcomes = []string{"sent", "retry", "rate_limited", "failed"}
)

// MaxJobKinds is how many distinct job kinds get a series of their own.
const MaxJobKinds = 32

var jobKindRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// AckBuckets are the ack latency histogram's upper bounds in seconds: fine below the
// 50 ms target, coarse up to the platforms' 3 s deadline.
var AckBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2, 3}

// Metrics holds tend's metrics and the registry that exposes them. The zero value is
// not usable; call New. All methods are safe for concurrent use.
type Metrics struct {
	reg        *prometheus.Registry
	events     *prometheus.CounterVec
	ack        *prometheus.HistogramVec
	deliveries *prometheus.CounterVec
	jobFails   *prometheus.CounterVec
	backlog    prometheus.Gauge
	oldest     prometheus.Gauge

	mu       sync.Mutex
	jobKinds map[string]bool
	dbStats  prometheus.Collector
}

// New builds a Metrics with its own registry, which also carries the Go runtime and
// process collectors (memory, CPU, open files).
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tend_events_total",
			Help: "Platform events handled, by platform, kind and outcome.",
		}, []string{"platform", "kind", "outcome"}),
		ack: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tend_ack_seconds",
			Help:    "Time from an event's arrival to its acknowledgement.",
			Buckets: AckBuckets,
		}, []string{"platform"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tend_deliveries_total",
			Help: "Outbox delivery attempts, by platform and outcome (sent, retry, rate_limited, failed).",
		}, []string{"platform", "outcome"}),
		jobFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tend_job_failures_total",
			Help: "Failed job runs, by job kind.",
		}, []string{"kind"}),
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tend_outbox_backlog",
			Help: "Messages waiting in the outbox.",
		}),
		oldest: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tend_outbox_oldest_seconds",
			Help: "Age of the oldest message waiting in the outbox.",
		}),
		jobKinds: map[string]bool{},
	}
	m.reg.MustRegister(m.events, m.ack, m.deliveries, m.jobFails, m.backlog, m.oldest,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the registry the metrics live in, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Event counts one handled event and records how long its acknowledgement took. A
// negative ack means the event was not acknowledged (nothing is observed).
func (m *Metrics) Event(platform, kind, outcome string, ack time.Duration) {
	p := oneOf(platform, Platforms)
	m.events.WithLabelValues(p, oneOf(kind, EventKinds), oneOf(outcome, EventOutcomes)).Inc()
	if ack >= 0 {
		m.ack.WithLabelValues(p).Observe(ack.Seconds())
	}
}

// Delivery counts one delivery attempt's outcome: sent, retry, rate_limited or failed.
func (m *Metrics) Delivery(platform, outcome string) {
	m.deliveries.WithLabelValues(oneOf(platform, Platforms), oneOf(outcome, DeliveryOutcomes)).Inc()
}

// JobFailed counts one failed run of a job of the given kind.
func (m *Metrics) JobFailed(kind string) {
	m.jobFails.WithLabelValues(m.jobKind(kind)).Inc()
}

// Outbox reports the outbox's backlog and the age of its oldest waiting message.
func (m *Metrics) Outbox(backlog int, oldest time.Duration) {
	m.backlog.Set(float64(max(backlog, 0)))
	m.oldest.Set(max(oldest, 0).Seconds())
}

// WatchDB exposes the connection pool statistics of db (go_sql_* with db_name="tend").
// Watching another pool replaces the previous one.
func (m *Metrics) WatchDB(db *sql.DB) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dbStats != nil {
		m.reg.Unregister(m.dbStats)
	}
	m.dbStats = collectors.NewDBStatsCollector(db, "tend")
	m.reg.MustRegister(m.dbStats)
}

// jobKind keeps well-formed kinds, up to MaxJobKinds of them.
func (m *Metrics) jobKind(kind string) string {
	if !jobKindRE.MatchString(kind) || kind == Other {
		return Other
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.jobKinds[kind] {
		return kind
	}
	if len(m.jobKinds) >= MaxJobKinds {
		return Other
	}
	m.jobKinds[kind] = true
	return kind
}

func oneOf(v string, set []string) string {
	if slices.Contains(set, v) {
		return v
	}
	return Other
}
