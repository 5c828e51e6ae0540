package obs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Timeouts of the HTTP endpoints.
const (
	// ReadyTimeout bounds one readiness check.
	ReadyTimeout = 2 * time.Second
	// ShutdownTimeout bounds the HTTP server's graceful shutdown.
	ShutdownTimeout = 5 * time.Second
)

// Reason is a short public explanation of why the process is not ready, such as
// "database unreachable". /readyz shows a Reason found in the ready error's chain and
// nothing else of it: driver errors may name hosts or carry a DSN. Wrap the cause to
// keep it for logs: fmt.Errorf("%w: %w", obs.Reason("database unreachable"), err).
type Reason string

func (r Reason) Error() string { return string(r) }

// Handler serves /metrics (m's registry), /healthz (200 "ok" while the process runs) and
// /readyz (200 "ready" when ready returns nil within ReadyTimeout, else 503 "not ready"
// with the error's Reason, if any). A nil ready means always ready.
func Handler(m *Metrics, ready func(context.Context) error) http.Handler {
	return handler(m, ready, ReadyTimeout)
}

func handler(m *Metrics, ready func(context.Context) error, timeout time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		text(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := check(r.Context(), ready, timeout); err != nil {
			msg := "not ready"
			var reason Reason
			switch {
			case errors.As(err, &reason):
				msg += ": " + string(reason)
			case errors.Is(err, context.DeadlineExceeded):
				msg += ": check timed out"
			}
			text(w, http.StatusServiceUnavailable, msg)
			return
		}
		text(w, http.StatusOK, "ready")
	})
	return mux
}

// check runs ready with a deadline and returns by the deadline even if ready ignores
// its context.
func check(ctx context.Context, ready func(context.Context) error, timeout time.Duration) error {
	if ready == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ready(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func text(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, body)
}

// Serve listens on addr and serves h until ctx ends, then shuts down gracefully within
// ShutdownTimeout. It returns nil after a clean shutdown.
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("obs: listen on %s: %w", addr, err)
	}
	return ServeListener(ctx, ln, h, log)
}

// ServeListener is Serve on a listener the caller opened (so that a bad address fails
// before anything else starts). It closes ln.
func ServeListener(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	addr := ln.Addr().String()
	log.Info("http server listening", "addr", addr)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc: // the listener failed; Serve never returns nil
		return fmt.Errorf("obs: serve on %s: %w", addr, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		_ = srv.Close()
		err = fmt.Errorf("obs: http server shutdown: %w", err)
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = fmt.Errorf("obs: serve on %s: %w", addr, serr)
	}
	log.Info("http server stopped", "addr", addr)
	return err
}
