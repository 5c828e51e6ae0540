package main

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tend-community/tend/config"
	"github.com/tend-community/tend/store"
)

// backup runs `tend backup [--to PATH]`: a consistent copy of the SQLite database while
// the bot runs (store/backup.go). It needs no encryption key: the copy stays sealed.
func (c *cli) backup(ctx context.Context, args []string) int {
	fs := c.flags("backup")
	to := fs.String("to", "", c.t("cli.backup.flag.to"))
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitUsage
	}
	cfg, ok := c.loadConfig()
	if !ok {
		return exitFailure
	}
	dsn := cfg.Database.URL
	stampNow := time.Now().UTC().Format("20060102-150405")
	if store.EngineOf(dsn) == store.Postgres {
		c.say(c.stderr, "cli.backup.postgres", "Dump", pgDump(dsn, "tend-"+stampNow+".dump"))
		return exitFailure
	}
	// Opening SQLite would create an empty database; there is nothing to copy.
	if p := config.SQLitePath(dsn); p != "" {
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			c.say(c.stderr, "cli.backup.no_database", "Path", p)
			return exitFailure
		}
	}
	path := *to
	if path == "" {
		path = filepath.Join(cfg.DataDir, "backups", "tend-"+stampNow+".db")
	}
	db, err := openDB(ctx, cfg, nil)
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	defer db.Close()
	if err := db.CheckSchema(ctx); err != nil {
		c.fail(err)
		return exitFailure
	}
	err = db.Backup(ctx, path)
	if errors.Is(err, store.ErrBackupExists) {
		c.say(c.stderr, "cli.backup.exists", "Path", path)
		return exitFailure
	}
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	c.say(c.stdout, "cli.backup.done", "Path", path)
	c.say(c.stdout, "cli.backup.keep_key_apart")
	return exitOK
}

// pgDump is the pg_dump command line for dsn, without its password: pg_dump asks for it
// or reads PGPASSWORD or ~/.pgpass.
func pgDump(dsn, file string) string {
	var host, port, user, name string
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		host, port, user, name = u.Hostname(), u.Port(), u.User.Username(), strings.TrimPrefix(u.Path, "/")
	} else {
		for _, f := range strings.Fields(dsn) {
			k, v, _ := strings.Cut(f, "=")
			v = strings.Trim(v, "'")
			switch k {
			case "host":
				host = v
			case "port":
				port = v
			case "user":
				user = v
			case "dbname":
				name = v
			}
		}
	}
	parts := []string{"pg_dump", "--format=custom", "--file=" + file}
	for _, p := range [][2]string{{"--host=", host}, {"--port=", port}, {"--username=", user}} {
		if p[1] != "" {
			parts = append(parts, p[0]+p[1])
		}
	}
	if name != "" {
		parts = append(parts, name)
	}
	return strings.Join(parts, " ")
}
