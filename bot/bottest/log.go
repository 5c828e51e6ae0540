package bottest

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
)

// SyncBuffer is a buffer that loggers on other goroutines may write while a test reads.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// builderSink lets concurrent handlers log into the harness's strings.Builder.
type builderSink struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (l *builderSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func newLogger(b *strings.Builder) *slog.Logger {
	return slog.New(slog.NewTextHandler(&builderSink{b: b}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
