package bottest

import (
	"log/slog"
	"strings"
	"sync"
)

// lockedBuilder lets concurrent handlers log into one builder.
type lockedBuilder struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func newLogger(b *strings.Builder) *slog.Logger {
	return slog.New(slog.NewTextHandler(&lockedBuilder{b: b}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
