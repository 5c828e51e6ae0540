package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/config"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
)

// export runs `tend export --member platform:user_id [--community SLUG]`: everything
// held about a member as JSON on stdout, for a moderator acting on the member's written
// request. The look is audited with the actor "cli".
func (c *cli) export(ctx context.Context, args []string) int {
	member, slug, _, db, code := c.memberCommand(ctx, "export", args)
	if db == nil {
		return code
	}
	defer db.Close()
	var x flows.Export
	err := db.InTx(ctx, func(tx *store.Tx) error {
		m, err := c.memberOf(ctx, tx, slug, member)
		if err != nil {
			return err
		}
		if x, err = flows.ExportMember(ctx, tx, m.ID); err != nil {
			return err
		}
		return tx.Audit(ctx, m.CommunityID, 0, "member.exported", "member:"+strconv.FormatInt(m.ID, 10), "by=cli")
	})
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(x); err != nil {
		c.fail(err)
		return exitFailure
	}
	return exitOK
}

// memberCommand parses the flags of export and forget (--member platform:user_id,
// --community SLUG) and opens the database ready; db is nil when the command must stop
// with code.
func (c *cli) memberCommand(ctx context.Context, name string, args []string) (member, slug string, cfg *config.Config, db *store.DB, code int) {
	fs := c.flags(name)
	m := fs.String("member", "", c.t("cli.mydata.flag.member"))
	sl := fs.String("community", "", c.t("cli.mydata.flag.community"))
	if code := parse(fs, args); code >= 0 {
		return "", "", nil, nil, code
	}
	if fs.NArg() > 0 || *m == "" {
		fs.Usage()
		return "", "", nil, nil, exitUsage
	}
	cfg, db, ok := c.openReady(ctx)
	if !ok {
		return "", "", nil, nil, exitFailure
	}
	return *m, *sl, cfg, db, exitOK
}

// forget runs `tend forget --member platform:user_id [--community SLUG]`: the member is
// erased as by their own "Erase me" (open requests called off, places handed back,
// personal data and accounts erased), audited with the actor "cli". Messages to the
// people concerned wait in the outbox for the running bot.
func (c *cli) forget(ctx context.Context, args []string) int {
	member, slug, cfg, db, code := c.memberCommand(ctx, "forget", args)
	if db == nil {
		return code
	}
	defer db.Close()
	app := bot.New(bot.Options{DB: db, Catalog: c.cat, Logger: cfg.Logger(io.Discard)})
	// The messages are addressed on the community's platforms and queued for the running
	// bot; this process sends nothing itself.
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		community, err := c.communityOf(ctx, tx, slug)
		if err != nil {
			return err
		}
		bs, err := tx.Bindings(ctx, community)
		for _, b := range bs {
			app.Attach(queueOnly(b.Platform))
		}
		return err
	}); err != nil {
		c.fail(err)
		return exitFailure
	}
	var id int64
	var closed int
	err := app.RunOnce(ctx, fmt.Sprintf("cli/forget/%s/%s/%d", slug, member, db.Now().UnixNano()), func(ctx context.Context) (flows.Result, error) {
		tx, _ := store.TxFrom(ctx)
		m, err := c.memberOf(ctx, tx, slug, member)
		if err != nil {
			return flows.Result{}, err
		}
		id = m.ID
		res, n, err := app.Flows().EraseMember(ctx, tx, flows.CLIActor(m.CommunityID), m.ID, "cli")
		closed = n
		return res, err
	})
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	c.say(c.stdout, "cli.mydata.forgotten", "ID", id, "Count", closed)
	return exitOK
}

// memberOf finds the member "platform:user_id" names in the community.
func (c *cli) memberOf(ctx context.Context, tx *store.Tx, slug, ref string) (store.Member, error) {
	community, err := c.communityOf(ctx, tx, slug)
	if err != nil {
		return store.Member{}, err
	}
	m, err := tx.MemberByRef(ctx, community, ref)
	if errors.Is(err, store.ErrNotFound) {
		return m, errors.New(c.t("cli.mydata.no_member", "Member", ref))
	}
	return m, err
}

// queueOnly stands for a platform whose messages are queued in the outbox for the
// running bot to send; it is never asked to send (no delivery runs in this process).
type queueOnly string

func (q queueOnly) Platform() string { return string(q) }

func (q queueOnly) Send(context.Context, bot.Delivery) (string, error) {
	return "", fmt.Errorf("tend: %s messages are sent by the running bot", string(q))
}
