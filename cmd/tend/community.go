package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/flows"
	"github.com/tend-community/tend/store"
)

// community runs `tend community create|bind|edit|show|code`: a community's settings
// from the command line, through the same checks and store functions as setup and
// /tend settings in chat, each change audited with the actor "cli". Changes given
// together apply together or not at all.
func (c *cli) community(ctx context.Context, args []string) int {
	fs := c.flags("community create|bind|edit|show|code")
	o := communityFlags(fs, c)
	positional, code := parseAll(fs, args)
	if code >= 0 {
		return code
	}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	if len(positional) == 0 {
		fs.Usage()
		return exitUsage
	}
	action, rest := positional[0], positional[1:]
	slug := o.community
	switch action {
	case "create", "bind":
		if len(rest) > 0 {
			fs.Usage()
			return exitUsage
		}
	case "edit", "show", "code":
		if len(rest) != 1 {
			fs.Usage()
			return exitUsage
		}
		slug = rest[0]
	default:
		fs.Usage()
		return exitUsage
	}
	if (o.labelEN != "" || o.labelFR != "") && len(o.addCategory)+len(o.setCategory) != 1 {
		c.fail(errors.New(c.t("cli.community.labels_for_one")))
		return exitUsage
	}
	_, db, ok := c.openReady(ctx)
	if !ok {
		return exitFailure
	}
	defer db.Close()
	var problems []string
	err := db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		switch action {
		case "create":
			problems, err = c.createCommunity(ctx, tx, o)
		case "show":
			return c.showCommunity(ctx, tx, slug)
		default:
			var id int64
			if id, err = c.communityOf(ctx, tx, slug); err != nil {
				return err
			}
			by := flows.CLIActor(id)
			switch action {
			case "bind":
				problems, err = c.bindCommunity(ctx, tx, by, o)
			case "edit":
				problems, err = c.editCommunity(ctx, tx, by, o)
			case "code":
				return c.joinCode(ctx, tx, by)
			}
		}
		if err == nil && len(problems) > 0 {
			// Nothing of this run is kept when any part is refused.
			return errRefused
		}
		return err
	})
	if errors.Is(err, errRefused) {
		for _, p := range problems {
			c.say(c.stderr, "cli.error", "Error", p)
		}
		return exitFailure
	}
	if err != nil {
		c.fail(err)
		return exitFailure
	}
	return exitOK
}

var errRefused = errors.New("refused")

// communityOptions are the flags of `tend community`.
type communityOptions struct {
	community, slug, platform, workspace, board, moderators, alerts string
	receiveShared                                                   string
	general                                                         map[string]*string
	set                                                             map[string]bool
	addCategory, setCategory, removeCategory                        listFlag
	labelEN, labelFR                                                string
	addModerator, removeModerator, addResource, removeResource      listFlag
}

// generalFlags map the flags of the general settings to their fields.
var generalFlags = []struct{ flag, field, help string }{
	{"name", flows.FieldName, "cli.community.flag.name"}, {"locale", flows.FieldLocale, "cli.community.flag.locale"},
	{"timezone", flows.FieldTimezone, "cli.community.flag.timezone"}, {"region", flows.FieldRegion, "cli.community.flag.region"},
	{"retention", flows.FieldRetention, "cli.community.flag.retention"}, {"privacy-officer", flows.FieldOfficer, "cli.community.flag.privacy_officer"},
}

// flagOfField names the flag behind a settings field, for messages.
func flagOfField(field string) string {
	for _, g := range generalFlags {
		if g.field == field {
			return g.flag
		}
	}
	switch field {
	case flows.FieldKey, flows.FieldRisk, flows.FieldTier, flows.FieldHelpers:
		return "add-category"
	case flows.FieldLabelEN:
		return "label-en"
	case flows.FieldLabelFR:
		return "label-fr"
	case flows.FieldLabel, flows.FieldContact:
		return "add-resource"
	case flows.FieldUser:
		return "add-moderator"
	case flows.FieldBoard:
		return "board"
	}
	return field
}

func communityFlags(fs *flag.FlagSet, c *cli) *communityOptions {
	o := &communityOptions{general: map[string]*string{}, set: map[string]bool{}}
	fs.StringVar(&o.community, "community", "", c.t("cli.community.flag.community"))
	fs.StringVar(&o.slug, "slug", "", c.t("cli.community.flag.slug"))
	for _, g := range generalFlags {
		o.general[g.field] = fs.String(g.flag, "", c.t(g.help))
	}
	fs.StringVar(&o.platform, "platform", "", c.t("cli.community.flag.platform"))
	fs.StringVar(&o.workspace, "workspace", "", c.t("cli.community.flag.workspace"))
	fs.StringVar(&o.board, "board", "", c.t("cli.community.flag.board"))
	fs.StringVar(&o.moderators, "moderators", "", c.t("cli.community.flag.moderators"))
	fs.StringVar(&o.alerts, "alerts", "", c.t("cli.community.flag.alerts"))
	fs.StringVar(&o.receiveShared, "receive-shared", "", c.t("spaces.cli.flag.receive_shared"))
	fs.Var(&o.addCategory, "add-category", c.t("cli.community.flag.add_category"))
	fs.Var(&o.setCategory, "set-category", c.t("cli.community.flag.set_category"))
	fs.Var(&o.removeCategory, "remove-category", c.t("cli.community.flag.remove_category"))
	fs.StringVar(&o.labelEN, "label-en", "", c.t("cli.community.flag.label_en"))
	fs.StringVar(&o.labelFR, "label-fr", "", c.t("cli.community.flag.label_fr"))
	fs.Var(&o.addModerator, "add-moderator", c.t("cli.community.flag.add_moderator"))
	fs.Var(&o.removeModerator, "remove-moderator", c.t("cli.community.flag.remove_moderator"))
	fs.Var(&o.addResource, "add-resource", c.t("cli.community.flag.add_resource"))
	fs.Var(&o.removeResource, "remove-resource", c.t("cli.community.flag.remove_resource"))
	return o
}

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// givenGeneral is the general settings given as flags, over base.
func (o *communityOptions) givenGeneral(base map[string]string) (map[string]string, bool) {
	in := map[string]string{}
	for k, v := range base {
		in[k] = v
	}
	any := false
	for _, g := range generalFlags {
		if o.set[g.flag] {
			in[g.field] = *o.general[g.field]
			any = true
		}
	}
	return in, any
}

// problems turns field errors into lines that name their flag.
func (c *cli) problems(errs []ui.FieldError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, "--"+flagOfField(e.Field)+": "+c.uiText(e.Msg))
	}
	return out
}

// uiText renders a flow's message for the operator, nested messages and the
// community's own labels included.
func (c *cli) uiText(t ui.Text) string {
	if t.Raw != "" {
		return t.Raw
	}
	if len(t.ByLang) > 0 {
		if s := t.ByLang[c.lang]; s != "" {
			return s
		}
		for _, l := range catalog.Languages {
			if s := t.ByLang[l]; s != "" {
				return s
			}
		}
	}
	if !c.cat.Has(c.lang, t.ID) && t.Fallback != "" {
		return t.Fallback
	}
	args := map[string]any{}
	for k, v := range t.Args {
		switch x := v.(type) {
		case ui.Text:
			args[k] = c.uiText(x)
		case ui.UserText:
			args[k] = string(x)
		default:
			args[k] = x
		}
	}
	return c.cat.Localize(c.lang, t.ID, args)
}

func (c *cli) createCommunity(ctx context.Context, tx *store.Tx, o *communityOptions) ([]string, error) {
	in := map[string]string{}
	for field, v := range o.general {
		in[field] = *v
	}
	com, errs, err := flows.NewCommunity(ctx, tx, flows.CLIActor(0), o.slug, in)
	if err != nil || len(errs) > 0 {
		return c.problems(errs), err
	}
	c.say(c.stdout, "cli.community.created", "Slug", com.Slug, "Name", com.Name)
	return nil, nil
}

func (c *cli) bindCommunity(ctx context.Context, tx *store.Tx, by flows.Actor, o *communityOptions) ([]string, error) {
	if strings.TrimSpace(o.moderators) == "" {
		return []string{"--moderators: " + c.uiText(ui.T("settings.error.required", "Field", ui.T("settings.field.moderators_channel")))}, nil
	}
	errs, err := flows.BindSpace(ctx, tx, by, store.Binding{Platform: o.platform, Workspace: o.workspace, BoardChannel: strings.TrimSpace(o.board),
		ModeratorsChannel: strings.TrimSpace(o.moderators), AlertChannel: strings.TrimSpace(o.alerts)})
	if err != nil || len(errs) > 0 {
		return c.problems(errs), err
	}
	c.say(c.stdout, "cli.community.bound", "Platform", o.platform, "Workspace", o.workspace)
	return nil, nil
}

// editCommunity applies every change given, each checked; any refusal undoes them all.
func (c *cli) editCommunity(ctx context.Context, tx *store.Tx, by flows.Actor, o *communityOptions) ([]string, error) {
	var problems []string
	changes := 0
	cur, err := tx.Community(ctx, by.CommunityID)
	if err != nil {
		return nil, err
	}
	if in, any := o.givenGeneral(flows.GeneralValues(cur)); any {
		changed, errs, err := flows.EditGeneral(ctx, tx, by, in)
		if err != nil {
			return nil, err
		}
		problems = append(problems, c.problems(errs)...)
		changes += len(changed)
	}
	if o.receiveShared != "" {
		msg, err := c.editReceiveShared(ctx, tx, by, o)
		if err != nil {
			return nil, err
		}
		if msg != "" {
			problems = append(problems, "--receive-shared: "+msg)
		}
		changes++
	}
	for _, spec := range o.addCategory {
		in, msg := categorySpec(spec, o)
		if msg != "" {
			problems = append(problems, "--add-category: "+c.t(msg, "Value", spec))
			continue
		}
		_, errs, err := flows.AddCategory(ctx, tx, by, in)
		if err != nil {
			return nil, err
		}
		problems = append(problems, c.problems(errs)...)
		changes++
	}
	for _, spec := range o.setCategory {
		in, msg := categorySpec(spec, o)
		if msg != "" {
			problems = append(problems, "--set-category: "+c.t(msg, "Value", spec))
			continue
		}
		key := flows.CategoryKey(in[flows.FieldKey])
		if cat, err := tx.Category(ctx, by.CommunityID, key); err == nil {
			// Labels not given keep their value.
			for _, f := range []string{flows.FieldLabelEN, flows.FieldLabelFR} {
				if in[f] == "" {
					in[f] = flows.CategoryValues(cat)[f]
				}
			}
		}
		errs, err := flows.EditCategory(ctx, tx, by, key, in)
		if err != nil {
			return nil, err
		}
		problems = append(problems, c.problems(errs)...)
		changes++
	}
	for _, key := range o.removeCategory {
		refusal, err := flows.RemoveCategory(ctx, tx, by, flows.CategoryKey(key))
		if err != nil {
			return nil, err
		}
		if !refusal.Empty() {
			problems = append(problems, "--remove-category: "+c.uiText(refusal))
		}
		changes++
	}
	for _, spec := range o.addResource {
		label, contact, ok := strings.Cut(spec, "=")
		if !ok {
			problems = append(problems, "--add-resource: "+c.t("cli.community.resource_spec", "Value", spec))
			continue
		}
		errs, err := flows.AddResource(ctx, tx, by, map[string]string{flows.FieldLabel: label, flows.FieldContact: contact})
		if err != nil {
			return nil, err
		}
		problems = append(problems, c.problems(errs)...)
		changes++
	}
	for _, id := range o.removeResource {
		refusal, err := flows.RemoveResource(ctx, tx, by, flows.ID(id))
		if err != nil {
			return nil, err
		}
		if !refusal.Empty() {
			problems = append(problems, "--remove-resource: "+c.uiText(refusal))
		}
		changes++
	}
	for _, spec := range o.addModerator {
		platform, user, ok := strings.Cut(spec, ":")
		if !ok {
			problems = append(problems, "--add-moderator: "+c.t("cli.community.account_spec", "Value", spec))
			continue
		}
		_, errs, err := flows.AddModerator(ctx, tx, by, platform, user)
		if err != nil {
			return nil, err
		}
		problems = append(problems, c.problems(errs)...)
		changes++
	}
	for _, spec := range o.removeModerator {
		platform, user, _ := strings.Cut(spec, ":")
		refusal, err := flows.RemoveModerator(ctx, tx, by, platform, user)
		if err != nil {
			return nil, err
		}
		if !refusal.Empty() {
			problems = append(problems, "--remove-moderator: "+c.uiText(refusal))
		}
		changes++
	}
	if len(problems) > 0 {
		return problems, nil
	}
	if changes == 0 {
		c.say(c.stdout, "cli.community.unchanged", "Slug", cur.Slug)
		return nil, nil
	}
	c.say(c.stdout, "cli.community.edited", "Slug", cur.Slug)
	return nil, nil
}

// editReceiveShared sets whether the space --platform/--workspace shows requests shared
// from the community's other spaces; a refusal comes back as a message.
func (c *cli) editReceiveShared(ctx context.Context, tx *store.Tx, by flows.Actor, o *communityOptions) (string, error) {
	var receives bool
	switch strings.ToLower(strings.TrimSpace(o.receiveShared)) {
	case "yes", "true", "on", "oui":
		receives = true
	case "no", "false", "off", "non":
	default:
		return c.t("spaces.cli.receive_shared_value", "Value", o.receiveShared), nil
	}
	if strings.TrimSpace(o.platform) == "" || strings.TrimSpace(o.workspace) == "" {
		return c.t("spaces.cli.receive_shared_space"), nil
	}
	refusal, err := flows.SetReceivesShared(ctx, tx, by, strings.TrimSpace(o.platform), strings.TrimSpace(o.workspace), receives)
	if err != nil || refusal.Empty() {
		return "", err
	}
	return c.uiText(refusal), nil
}

// categorySpec reads key:risk:tier[:helpers], with the labels given beside it; the
// message id says what is wrong with it.
func categorySpec(spec string, o *communityOptions) (map[string]string, string) {
	parts := strings.Split(spec, ":")
	if len(parts) < 3 || len(parts) > 4 {
		return nil, "cli.community.category_spec"
	}
	in := map[string]string{flows.FieldKey: parts[0], flows.FieldRisk: parts[1], flows.FieldTier: parts[2],
		flows.FieldLabelEN: o.labelEN, flows.FieldLabelFR: o.labelFR}
	if len(parts) == 4 {
		in[flows.FieldHelpers] = parts[3]
	}
	return in, ""
}

func (c *cli) joinCode(ctx context.Context, tx *store.Tx, by flows.Actor) error {
	code, _, err := flows.NewJoinCode(ctx, tx, by)
	if err != nil {
		return err
	}
	c.say(c.stdout, "cli.community.code", "Code", code, "Hours", int(store.JoinCodeTTL.Hours()))
	return nil
}

// showCommunity prints everything about a community's settings; there is nothing
// secret in them (join codes are never shown again).
func (c *cli) showCommunity(ctx context.Context, tx *store.Tx, slug string) error {
	id, err := c.communityOf(ctx, tx, slug)
	if err != nil {
		return err
	}
	com, err := tx.Community(ctx, id)
	if err != nil {
		return err
	}
	w := c.stdout
	line := func(id string, kv ...any) { fmt.Fprintln(w, c.t(id, kv...)) }
	region := com.Region
	if region == "" {
		region = "-"
	}
	line("cli.community.show.head", "Slug", com.Slug, "Name", com.Name)
	line("cli.community.show.general", "Locale", com.Locale, "Timezone", com.Timezone, "Region", region,
		"Count", com.RetentionDays, "Officer", dash(com.PrivacyOfficer))
	if com.SettingsEditedAt.Valid {
		line("cli.community.show.edited")
	} else {
		line("cli.community.show.config")
	}
	bs, err := tx.Bindings(ctx, id)
	if err != nil {
		return err
	}
	line("cli.community.show.spaces", "Count", len(bs))
	for _, b := range bs {
		shared := ""
		if b.RefusesShared {
			shared = "  receive_shared=no"
		}
		fmt.Fprintf(w, "  %s/%s  board=%s  moderators=%s  alerts=%s%s\n", b.Platform, b.Workspace, b.BoardChannel, dash(b.ModeratorsChannel), dash(b.AlertChannel), shared)
	}
	cats, err := tx.Categories(ctx, id)
	if err != nil {
		return err
	}
	line("cli.community.show.categories", "Count", len(cats))
	for _, k := range cats {
		fmt.Fprintf(w, "  %s  risk=%s  tier=%s  helpers=%d  en=%s  fr=%s\n", k.Key, k.Risk, k.Tier, max(k.Helpers, 1), dash(k.LabelEN), dash(k.LabelFR))
	}
	rs, err := tx.CrisisResources(ctx, id)
	if err != nil {
		return err
	}
	line("cli.community.show.resources", "Count", len(rs))
	for _, r := range rs {
		fmt.Fprintf(w, "  %d  %s = %s\n", r.ID, r.Label, r.Contact)
	}
	mods, err := tx.Moderators(ctx, id)
	if err != nil {
		return err
	}
	line("cli.community.show.moderators", "Count", len(mods))
	for _, m := range mods {
		fmt.Fprintf(w, "  %s:%s\n", m.Platform, m.UserID)
	}
	v, err := tx.VisitSettings(ctx, id)
	if err != nil {
		return err
	}
	line("cli.community.show.visits", "Grace", v.GraceMinutes, "Days", v.VettingValidDays, "Rules", len(v.RuleList()), "Contact", dash(v.Contact))
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
