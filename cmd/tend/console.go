package main

import (
	"context"
	"errors"
	"io"
)

func runConsole(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	return errors.New("console: not wired")
}
