package flows

import (
	"context"
	"strings"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// /tend settings: a moderator sees the community's settings and changes them, part by
// part. Every change goes through the same checks and store functions as setup and the
// command line (settings_apply.go), in one transaction with its audit row. Every button
// and form checks again that the person is a moderator: a button can be forged.

// Buttons of /tend settings.
const (
	ActSettingsShow           = "settings.show"
	ActSettingsGeneral        = "settings.general"
	ActSettingsCategories     = "settings.categories"
	ActSettingsCategoryAdd    = "settings.category.add"
	ActSettingsCategoryPick   = "settings.category.pick"
	ActSettingsCategoryEdit   = "settings.category.edit"
	ActSettingsCategoryRemove = "settings.category.remove"
	ActSettingsResources      = "settings.resources"
	ActSettingsResourceAdd    = "settings.resource.add"
	ActSettingsResourceRemove = "settings.resource.remove"
	ActSettingsModerators     = "settings.moderators"
	ActSettingsModeratorAdd   = "settings.moderator.add"
	ActSettingsModeratorDrop  = "settings.moderator.remove"
	ActSettingsInvite         = "settings.invite"
	// ActSettingsShared turns on ("on") or off ("off") whether this space shows the
	// requests shared from the community's other spaces.
	ActSettingsShared = "settings.shared"
)

// Forms of /tend settings.
const (
	FormSettingsGeneral     = "settings.general"
	FormSettingsCategoryAdd = "settings.category.add"
	FormSettingsCategory    = "settings.category"
	FormSettingsResource    = "settings.resource"
	FormSettingsModerator   = "settings.moderator"
)

// settingsRoutes adds /tend settings, its buttons and its forms.
func (s *Service) settingsRoutes(r *Routes) {
	for _, name := range []string{"settings", "reglages", "réglages", "parametres", "paramètres"} {
		r.Commands[name] = s.Settings
	}
	show := func(card func(context.Context, *store.Tx, Actor) (ui.Card, error)) PressFunc {
		return func(ctx context.Context, a Actor, _, _ string) (Result, error) {
			return s.settingsCard(ctx, a, nil, card)
		}
	}
	r.Buttons[ActSettingsShow] = show(s.mainCard)
	r.Buttons[ActSettingsCategories] = show(s.categoriesCard)
	r.Buttons[ActSettingsResources] = show(s.resourcesCard)
	r.Buttons[ActSettingsModerators] = show(s.moderatorsCard)
	r.Buttons[ActSettingsGeneral] = s.settingsForm(func(ctx context.Context, tx *store.Tx, a Actor, _ string) (*ui.Form, error) {
		c, err := tx.Community(ctx, a.CommunityID)
		if err != nil {
			return nil, err
		}
		return &ui.Form{ID: FormSettingsGeneral, Title: ui.T("settings.general.title"), Fields: generalFields(GeneralValues(c), true)}, nil
	})
	r.Buttons[ActSettingsCategoryAdd] = s.settingsForm(func(context.Context, *store.Tx, Actor, string) (*ui.Form, error) {
		return &ui.Form{ID: FormSettingsCategoryAdd, Title: ui.T("settings.category.add_title"), Fields: categoryFields(nil, true)}, nil
	})
	r.Buttons[ActSettingsCategoryEdit] = s.settingsForm(func(ctx context.Context, tx *store.Tx, a Actor, key string) (*ui.Form, error) {
		c, err := tx.Category(ctx, a.CommunityID, key)
		if isNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return &ui.Form{ID: FormSettingsCategory, Payload: key, Title: ui.T("settings.category.edit_title", "Category", categoryName(c)),
			Fields: categoryFields(CategoryValues(c), false)}, nil
	})
	r.Buttons[ActSettingsResourceAdd] = s.settingsForm(func(context.Context, *store.Tx, Actor, string) (*ui.Form, error) {
		return &ui.Form{ID: FormSettingsResource, Title: ui.T("settings.resource.add_title"), Fields: []ui.FormField{
			{Name: FieldLabel, Kind: ui.FieldText, Label: ui.T("settings.field.resource_label"), Help: ui.T("settings.help.resource_label"), Required: true, MaxLen: MaxResourceLabel},
			{Name: FieldContact, Kind: ui.FieldText, Label: ui.T("settings.field.resource_contact"), Help: ui.T("settings.help.resource_contact"), Required: true, MaxLen: MaxResourceLine},
		}}, nil
	})
	r.Buttons[ActSettingsModeratorAdd] = s.settingsForm(func(context.Context, *store.Tx, Actor, string) (*ui.Form, error) {
		return &ui.Form{ID: FormSettingsModerator, Title: ui.T("settings.moderator.add_title"), Fields: []ui.FormField{
			{Name: FieldUser, Kind: ui.FieldText, Label: ui.T("settings.field.user"), Help: ui.T("settings.help.user"), Required: true, MaxLen: 100},
		}}, nil
	})
	r.Buttons[ActSettingsCategoryPick] = s.CategoryPick
	r.Buttons[ActSettingsCategoryRemove] = s.settingsChange(func(ctx context.Context, tx *store.Tx, a Actor, key string) (ui.Text, cardFunc, error) {
		refusal, err := RemoveCategory(ctx, tx, a, key)
		return refusal, s.categoriesCard, err
	})
	r.Buttons[ActSettingsResourceRemove] = s.settingsChange(func(ctx context.Context, tx *store.Tx, a Actor, id string) (ui.Text, cardFunc, error) {
		refusal, err := RemoveResource(ctx, tx, a, ID(id))
		return refusal, s.resourcesCard, err
	})
	r.Buttons[ActSettingsModeratorDrop] = s.settingsChange(func(ctx context.Context, tx *store.Tx, a Actor, who string) (ui.Text, cardFunc, error) {
		platform, user, _ := strings.Cut(who, ":")
		refusal, err := RemoveModerator(ctx, tx, a, platform, user)
		return refusal, s.moderatorsCard, err
	})
	r.Buttons[ActSettingsInvite] = s.Invite
	r.Buttons[ActSettingsShared] = s.settingsChange(func(ctx context.Context, tx *store.Tx, a Actor, on string) (ui.Text, cardFunc, error) {
		refusal, err := SetReceivesShared(ctx, tx, a, a.Platform, a.Workspace, on == "on")
		return refusal, s.mainCard, err
	})
	r.Forms[FormSettingsGeneral] = s.settingsSubmit(func(ctx context.Context, tx *store.Tx, a Actor, _ string, in map[string]string) ([]ui.FieldError, bool, cardFunc, error) {
		changed, errs, err := EditGeneral(ctx, tx, a, in)
		return errs, len(changed) > 0, s.mainCard, err
	})
	r.Forms[FormSettingsCategoryAdd] = s.settingsSubmit(func(ctx context.Context, tx *store.Tx, a Actor, _ string, in map[string]string) ([]ui.FieldError, bool, cardFunc, error) {
		_, errs, err := AddCategory(ctx, tx, a, in)
		return errs, true, s.categoriesCard, err
	})
	r.Forms[FormSettingsCategory] = s.settingsSubmit(func(ctx context.Context, tx *store.Tx, a Actor, key string, in map[string]string) ([]ui.FieldError, bool, cardFunc, error) {
		errs, err := EditCategory(ctx, tx, a, key, in)
		return errs, true, s.categoriesCard, err
	})
	r.Forms[FormSettingsResource] = s.settingsSubmit(func(ctx context.Context, tx *store.Tx, a Actor, _ string, in map[string]string) ([]ui.FieldError, bool, cardFunc, error) {
		errs, err := AddResource(ctx, tx, a, in)
		return errs, true, s.resourcesCard, err
	})
	r.Forms[FormSettingsModerator] = s.settingsSubmit(func(ctx context.Context, tx *store.Tx, a Actor, _ string, in map[string]string) ([]ui.FieldError, bool, cardFunc, error) {
		added, errs, err := AddModerator(ctx, tx, a, a.Platform, in[FieldUser])
		return errs, added, s.moderatorsCard, err
	})
}

// cardFunc builds one of the settings cards from the current state.
type cardFunc func(ctx context.Context, tx *store.Tx, a Actor) (ui.Card, error)

// Settings is /tend settings: the community's settings, for moderators.
func (s *Service) Settings(ctx context.Context, a Actor, _ []string) (Result, error) {
	return s.settingsCard(ctx, a, nil, s.mainCard)
}

// settingsCard answers a moderator with a settings card, note first when given.
func (s *Service) settingsCard(ctx context.Context, a Actor, note []ui.Text, card cardFunc) (Result, error) {
	if !a.Moderator {
		return reply("settings.mods_only"), nil
	}
	var res Result
	err := s.read(ctx, func(tx *store.Tx) error {
		c, err := card(ctx, tx, a)
		if err != nil {
			return err
		}
		c.Body = append(note, c.Body...)
		res.add(ui.Out{To: ui.Actor(), Card: c})
		return nil
	})
	return res, err
}

// settingsForm opens a settings form for a moderator; a nil form means what it would
// edit is gone.
func (s *Service) settingsForm(form func(ctx context.Context, tx *store.Tx, a Actor, payload string) (*ui.Form, error)) PressFunc {
	return func(ctx context.Context, a Actor, payload, _ string) (Result, error) {
		if !a.Moderator {
			return reply("settings.mods_only"), nil
		}
		var res Result
		err := s.read(ctx, func(tx *store.Tx) error {
			f, err := form(ctx, tx, a, payload)
			if f == nil && err == nil {
				res = reply("error.gone")
			}
			res.Form = f
			return err
		})
		return res, err
	}
}

// settingsSubmit runs a settings form's change for a moderator: refused answers come back
// on their fields with nothing changed; a change is confirmed with the card it belongs to.
func (s *Service) settingsSubmit(change func(ctx context.Context, tx *store.Tx, a Actor, payload string, in map[string]string) ([]ui.FieldError, bool, cardFunc, error)) SubmitFunc {
	return func(ctx context.Context, a Actor, payload string, in map[string]string) (Result, error) {
		if !a.Moderator {
			return reply("settings.mods_only"), nil
		}
		return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
			errs, changed, card, err := change(ctx, tx, a, payload, in)
			if err != nil || len(errs) > 0 {
				return Result{Errors: errs}, false, err
			}
			note := "settings.saved"
			if !changed {
				note = "settings.unchanged"
			}
			c, err := card(ctx, tx, a)
			if err != nil {
				return Result{}, false, err
			}
			c.Body = append([]ui.Text{ui.T(note)}, c.Body...)
			return Result{Outs: []ui.Out{{To: ui.Actor(), Card: c}}}, changed, nil
		})
	}
}

// settingsChange runs a settings button's change for a moderator; the payload or the
// value picked names what it is about.
func (s *Service) settingsChange(change func(ctx context.Context, tx *store.Tx, a Actor, what string) (ui.Text, cardFunc, error)) PressFunc {
	return func(ctx context.Context, a Actor, payload, value string) (Result, error) {
		if !a.Moderator {
			return reply("settings.mods_only"), nil
		}
		if value != "" {
			payload = value
		}
		return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
			refusal, card, err := change(ctx, tx, a, payload)
			if err != nil || !refusal.Empty() {
				return Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{Body: []ui.Text{refusal}}}}}, false, err
			}
			c, err := card(ctx, tx, a)
			if err != nil {
				return Result{}, false, err
			}
			c.Body = append([]ui.Text{ui.T("settings.saved")}, c.Body...)
			return Result{Outs: []ui.Out{{To: ui.Actor(), Card: c}}}, true, nil
		})
	}
}

// CategoryPick shows one category with its buttons: change it, or remove it.
func (s *Service) CategoryPick(ctx context.Context, a Actor, payload, value string) (Result, error) {
	if value == "" {
		value = payload
	}
	return s.settingsCard(ctx, a, nil, func(ctx context.Context, tx *store.Tx, a Actor) (ui.Card, error) {
		c, err := tx.Category(ctx, a.CommunityID, value)
		if isNotFound(err) {
			return ui.Card{Body: []ui.Text{ui.T("settings.error.no_category", "Value", ui.UserText(value))}}, nil
		}
		if err != nil {
			return ui.Card{}, err
		}
		return ui.Card{
			Title:  categoryName(c),
			Fields: categoryCardFields(c),
			Buttons: []ui.Button{
				{Label: ui.T("settings.button.edit"), Action: ActSettingsCategoryEdit, Payload: c.Key, Style: ui.StylePrimary},
				{Label: ui.T("settings.button.remove"), Action: ActSettingsCategoryRemove, Payload: c.Key, Style: ui.StyleDanger},
				{Label: ui.T("settings.button.back"), Action: ActSettingsCategories},
			},
		}, nil
	})
}

// Invite makes a one-time code for another space, shown to this moderator only and
// never stored in clear.
func (s *Service) Invite(ctx context.Context, a Actor, _, _ string) (Result, error) {
	if !a.Moderator {
		return reply("settings.mods_only"), nil
	}
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		code, _, err := NewJoinCode(ctx, tx, a)
		if err != nil {
			return Result{}, false, err
		}
		return Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{
			Title:  ui.T("settings.invite.title"),
			Body:   []ui.Text{ui.T("settings.invite.code", "Code", code), ui.T("settings.invite.how", "Hours", int(store.JoinCodeTTL.Hours()))},
			Secret: true,
		}}}}, true, nil
	})
}

// categoryFields are the questions about a category; the key only when adding one.
func categoryFields(def map[string]string, isNew bool) []ui.FormField {
	helpers := def[FieldHelpers]
	if helpers == "" {
		helpers = "1"
	}
	var fs []ui.FormField
	if isNew {
		fs = append(fs, ui.FormField{Name: FieldKey, Kind: ui.FieldText, Label: ui.T("settings.field.key"), Help: ui.T("settings.help.key"), Required: true, MaxLen: 30})
	}
	risks := make([]ui.Option, 0, len(store.RiskLevels))
	for _, r := range store.RiskLevels {
		risks = append(risks, ui.Option{Label: riskLabel(r), Value: r})
	}
	tiers := make([]ui.Option, 0, len(Tiers))
	for _, t := range Tiers {
		tiers = append(tiers, ui.Option{Label: tierLabel(t), Value: t})
	}
	return append(fs,
		ui.FormField{Name: FieldLabelEN, Kind: ui.FieldText, Label: ui.T("settings.field.label_en"), Help: ui.T("settings.help.label_en"), MaxLen: MaxCategoryLabel, Default: def[FieldLabelEN]},
		ui.FormField{Name: FieldLabelFR, Kind: ui.FieldText, Label: ui.T("settings.field.label_fr"), Help: ui.T("settings.help.label_fr"), MaxLen: MaxCategoryLabel, Default: def[FieldLabelFR]},
		ui.FormField{Name: FieldRisk, Kind: ui.FieldChoice, Label: ui.T("settings.field.risk"), Help: ui.T("settings.help.risk"), Required: true, Options: risks, Default: def[FieldRisk]},
		ui.FormField{Name: FieldTier, Kind: ui.FieldChoice, Label: ui.T("settings.field.tier"), Required: true, Options: tiers, Default: def[FieldTier]},
		ui.FormField{Name: FieldHelpers, Kind: ui.FieldChoice, Label: ui.T("settings.field.helpers"), Required: true, Default: helpers,
			Options: []ui.Option{{Label: ui.T("settings.helpers.one"), Value: "1"}, {Label: ui.T("settings.helpers.two"), Value: "2"}}},
	)
}

// riskLabel names a risk level for people.
func riskLabel(r string) ui.Text {
	switch store.NormalizeRisk(r) {
	case store.RiskCall:
		return ui.T("settings.risk.call")
	case store.RiskDoorstep:
		return ui.T("settings.risk.doorstep")
	case store.RiskRide:
		return ui.T("settings.risk.ride")
	}
	return ui.T("settings.risk.home")
}

// tierLabel names the tier a helper needs.
func tierLabel(t string) ui.Text {
	switch t {
	case "member":
		return ui.T("settings.tier.member")
	case "vetted":
		return ui.T("settings.tier.vetted")
	}
	return ui.T("settings.tier.volunteer")
}

// regionLabel names a region for people.
func regionLabel(r string) ui.Text {
	switch r {
	case "CA":
		return ui.T("settings.region.ca")
	case "CA-QC":
		return ui.T("settings.region.ca_qc")
	case "US":
		return ui.T("settings.region.us")
	case "":
		return ui.T("settings.region.none")
	}
	return ui.T("value.text", "Text", ui.UserText(r))
}
