package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
)

// auditRecord is one row of `tend audit`, as printed.
type auditRecord struct {
	at                   time.Time
	kind                 string
	actorID              int64
	actor, action        string
	subject, subjectName string
	detail               string
	disclosure           bool
	fields               string
}

// csvHeader names the CSV columns; they are field names for programs, not prose.
var csvHeader = []string{"time", "kind", "actor_member_id", "actor", "action", "subject", "subject_name", "detail"}

// audit runs `tend audit --community SLUG [--member ID] [--since DATE] [--until DATE]
// [--csv]`: who saw which private data, when and on what basis, and every state change,
// newest first. The look itself is written to the audit log.
func (c *cli) audit(ctx context.Context, args []string) int {
	fs := c.flags("audit")
	slug := fs.String("community", "", c.t("cli.audit.flag.community"))
	member := fs.String("member", "", c.t("cli.audit.flag.member"))
	since := fs.String("since", "", c.t("cli.audit.flag.since"))
	until := fs.String("until", "", c.t("cli.audit.flag.until"))
	asCSV := fs.Bool("csv", false, c.t("cli.audit.flag.csv"))
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 || *slug == "" {
		c.say(c.stderr, "cli.audit.need_community")
		fs.Usage()
		return exitUsage
	}
	cfg, ok := c.loadConfig()
	if !ok {
		return exitFailure
	}
	db, err := openDB(ctx, cfg, nil)
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	defer db.Close()
	if err := db.CheckSchema(ctx); err != nil {
		c.fail(redactErr(err, cfg.Database.URL))
		return exitFailure
	}
	var records []auditRecord
	var problem error
	err = db.InTx(ctx, func(tx *store.Tx) error {
		records, problem = nil, nil
		community, err := tx.CommunityID(ctx, *slug)
		if errors.Is(err, store.ErrNotFound) {
			problem = errors.New(c.t("cli.audit.no_community", "Slug", *slug))
			return nil
		}
		if err != nil {
			return err
		}
		com, err := tx.Community(ctx, community)
		if err != nil {
			return err
		}
		loc, err := time.LoadLocation(com.Timezone)
		if err != nil {
			loc = time.UTC
		}
		f := store.AuditFilter{}
		if f.Since, f.Until, err = flows.DayRange(*since, *until, loc); err != nil {
			problem = errors.New(c.t("cli.audit.bad_date", "Since", *since, "Until", *until))
			return nil
		}
		subject := "community:" + strconv.FormatInt(community, 10)
		if *member != "" {
			m, err := findMember(ctx, tx, community, *member)
			if errors.Is(err, store.ErrNotFound) {
				problem = errors.New(c.t("cli.audit.no_member", "Member", *member, "Slug", *slug))
				return nil
			}
			if err != nil {
				return err
			}
			f.Member, subject = m.ID, "member:"+strconv.FormatInt(m.ID, 10)
		}
		rows, _, err := flows.AuditTrail(ctx, tx, community, f)
		if err != nil {
			return err
		}
		for _, r := range rows {
			rec, err := c.record(ctx, tx, r, loc)
			if err != nil {
				return err
			}
			records = append(records, rec)
		}
		return tx.Audit(ctx, community, 0, "audit.viewed", subject, "via=cli"+flows.AuditBounds(*since, *until))
	})
	if err == nil && problem != nil {
		err = problem
	}
	if err != nil {
		c.fail(redactErr(err, cfg.Database.URL))
		return exitFailure
	}
	if *asCSV {
		err = writeAuditCSV(c.stdout, records)
	} else {
		err = c.writeAuditTable(records)
	}
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	return exitOK
}

// findMember reads --member: a member's numeric id, or platform:user for the member
// behind a platform account, in the community.
func findMember(ctx context.Context, tx *store.Tx, community int64, ref string) (store.Member, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		m, err := tx.Member(ctx, id)
		if err == nil && m.CommunityID != community {
			return m, store.ErrNotFound
		}
		return m, err
	}
	platform, user, ok := strings.Cut(ref, ":")
	if !ok || platform == "" || user == "" {
		return store.Member{}, store.ErrNotFound
	}
	return tx.MemberByIdentity(ctx, community, platform, user)
}

// record turns a row of the trail into what is printed, with names looked up now.
func (c *cli) record(ctx context.Context, tx *store.Tx, r flows.AuditRow, loc *time.Location) (auditRecord, error) {
	rec := auditRecord{at: time.Unix(r.At, 0).In(loc)}
	if d := r.Disclosure; d != nil {
		rec.kind, rec.disclosure, rec.action = "disclosure", true, "saw"
		rec.actorID, rec.fields = d.ViewerMemberID, d.Fields
		rec.subject = "member:" + strconv.FormatInt(d.SubjectMemberID, 10)
		detail := []string{"fields=" + d.Fields, "basis=" + d.Basis}
		if d.RequestID.Valid {
			detail = append(detail, "request="+strconv.FormatInt(d.RequestID.Int64, 10))
		}
		if d.ClaimID.Valid {
			detail = append(detail, "claim="+strconv.FormatInt(d.ClaimID.Int64, 10))
		}
		rec.detail = strings.Join(detail, " ")
		var err error
		if rec.actor, err = memberName(ctx, tx, d.ViewerMemberID); err != nil {
			return rec, err
		}
		if rec.subjectName, err = memberName(ctx, tx, d.SubjectMemberID); err != nil {
			return rec, err
		}
		return rec, nil
	}
	e := r.Entry
	rec.kind, rec.action, rec.subject, rec.detail = "log", e.Action, e.Subject, e.Detail
	if e.ActorMemberID.Valid {
		rec.actorID = e.ActorMemberID.Int64
		name, err := memberName(ctx, tx, rec.actorID)
		if err != nil {
			return rec, err
		}
		rec.actor = name
	}
	if id, ok := strings.CutPrefix(e.Subject, "member:"); ok {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil {
			name, err := memberName(ctx, tx, n)
			if err != nil {
				return rec, err
			}
			rec.subjectName = name
		}
	}
	return rec, nil
}

// memberName is a member's display name, or "" for one whose data was erased.
func memberName(ctx context.Context, tx *store.Tx, id int64) (string, error) {
	m, err := tx.Member(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return m.DisplayName, err
}

func (c *cli) writeAuditTable(records []auditRecord) error {
	if len(records) == 0 {
		c.say(c.stdout, "cli.audit.none")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.t("cli.audit.col_time"), c.t("cli.audit.col_kind"), c.t("cli.audit.col_who"),
		c.t("cli.audit.col_action"), c.t("cli.audit.col_subject"), c.t("cli.audit.col_detail"))
	for _, r := range records {
		kind, who, action, subject := c.t("cli.audit.kind_log"), c.t("cli.audit.system"), r.action, r.subject
		if r.disclosure {
			kind, action = c.t("cli.audit.kind_disclosure"), c.t("cli.audit.saw", "Fields", c.fieldNames(r.fields))
		}
		if r.actorID != 0 {
			who = c.t("cli.audit.member", "Name", r.actor, "ID", r.actorID)
		}
		if r.subjectName != "" {
			subject = c.t("cli.audit.subject", "Subject", r.subject, "Name", r.subjectName)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.at.Format("2006-01-02 15:04"), kind, printable(who), printable(action),
			printable(subject), printable(r.detail))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("audit: write: %w", err)
	}
	c.say(c.stdout, "cli.audit.count", "Count", len(records))
	return nil
}

// fieldNames names private fields ("address,phone") in the operator's language.
func (c *cli) fieldNames(fields string) string {
	var out []string
	for _, f := range strings.Split(fields, ",") {
		switch f {
		case "address":
			f = c.t("field.address")
		case "phone":
			f = c.t("field.phone")
		case "notes":
			f = c.t("field.notes")
		}
		out = append(out, f)
	}
	return strings.Join(out, ", ")
}

func writeAuditCSV(w io.Writer, records []auditRecord) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("audit: write csv: %w", err)
	}
	for _, r := range records {
		actorID := ""
		if r.actorID != 0 {
			actorID = strconv.FormatInt(r.actorID, 10)
		}
		row := []string{r.at.Format(time.RFC3339), r.kind, actorID, r.actor, r.action, r.subject, r.subjectName, r.detail}
		for i := range row {
			row[i] = spreadsheetSafe(printable(row[i]))
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("audit: write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("audit: write csv: %w", err)
	}
	return nil
}

// printable drops control characters a display name could carry into a terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// spreadsheetSafe keeps a cell from being read as a formula when the CSV is opened in a
// spreadsheet (a display name such as "=HYPERLINK(...)").
func spreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}
