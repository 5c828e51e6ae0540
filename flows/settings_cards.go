package flows

import (
	"context"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// The cards of /tend settings, built from the current state each time.

func textValue(s string) ui.Text { return ui.T("value.text", "Text", ui.UserText(s)) }

// orNone is a value, or "not set".
func orNone(s string, none ui.Text) ui.Text {
	if s == "" {
		return none
	}
	return textValue(s)
}

// mainCard is the community's settings at a glance, with a button for each part.
func (s *Service) mainCard(ctx context.Context, tx *store.Tx, a Actor) (ui.Card, error) {
	c, err := tx.Community(ctx, a.CommunityID)
	if err != nil {
		return ui.Card{}, err
	}
	cats, err := tx.Categories(ctx, c.ID)
	if err != nil {
		return ui.Card{}, err
	}
	rs, err := tx.CrisisResources(ctx, c.ID)
	if err != nil {
		return ui.Card{}, err
	}
	mods, err := tx.Moderators(ctx, c.ID)
	if err != nil {
		return ui.Card{}, err
	}
	locale := ui.T("language.en")
	if c.Locale == "fr" {
		locale = ui.T("language.fr")
	}
	card := ui.Card{
		Title: ui.T("settings.title", "Community", ui.UserText(c.Name)),
		Fields: []ui.Field{
			{Label: ui.T("settings.field.name"), Value: textValue(c.Name)},
			{Label: ui.T("settings.field.locale"), Value: locale},
			{Label: ui.T("settings.field.timezone"), Value: textValue(c.Timezone)},
			{Label: ui.T("settings.field.region"), Value: regionLabel(c.Region)},
			{Label: ui.T("settings.field.retention_days"), Value: ui.T("settings.value.days", "Count", c.RetentionDays)},
			{Label: ui.T("settings.field.privacy_officer"), Value: orNone(c.PrivacyOfficer, ui.T("settings.value.none"))},
		},
	}
	b, err := tx.BindingFor(ctx, a.Platform, a.Workspace)
	var shared *ui.Button
	switch {
	case err == nil && b.CommunityID == c.ID:
		card.Fields = append(card.Fields,
			ui.Field{Label: ui.T("settings.field.board"), Value: textValue(b.BoardChannel)},
			ui.Field{Label: ui.T("settings.field.moderators_channel"), Value: orNone(b.ModeratorsChannel, ui.T("settings.value.mod_channel_unset"))},
			ui.Field{Label: ui.T("settings.field.alerts_channel"), Value: orNone(b.AlertChannel, ui.T("settings.value.alerts_unset"))})
		if shared, err = s.sharedSetting(ctx, tx, b, &card); err != nil {
			return ui.Card{}, err
		}
	case err != nil && !isNotFound(err):
		return ui.Card{}, err
	}
	card.Fields = append(card.Fields,
		ui.Field{Label: ui.T("settings.field.categories"), Value: ui.T("settings.value.count", "Count", len(cats))},
		ui.Field{Label: ui.T("settings.field.resources"), Value: ui.T("settings.value.count", "Count", len(rs))},
		ui.Field{Label: ui.T("settings.field.moderators"), Value: ui.T("settings.value.count", "Count", len(mods))})
	if len(rs) == 0 && !HasDefaultResources(c.Region) {
		card.Body = append(card.Body, ui.T("setup.done.resources"))
	}
	card.Body = append(card.Body, ui.T("settings.channels_hint"))
	card.Buttons = []ui.Button{
		{Label: ui.T("settings.button.general"), Action: ActSettingsGeneral, Style: ui.StylePrimary},
		{Label: ui.T("settings.button.categories"), Action: ActSettingsCategories},
		{Label: ui.T("settings.button.resources"), Action: ActSettingsResources},
		{Label: ui.T("settings.button.moderators"), Action: ActSettingsModerators},
		{Label: ui.T("settings.button.invite"), Action: ActSettingsInvite},
	}
	if shared != nil {
		card.Buttons = append(card.Buttons, *shared)
	}
	return card, nil
}

// sharedSetting shows whether this space receives requests shared from the community's
// other spaces, with the button that changes it; nothing when the community has one
// space only.
func (s *Service) sharedSetting(ctx context.Context, tx *store.Tx, b store.Binding, card *ui.Card) (*ui.Button, error) {
	bs, err := tx.Bindings(ctx, b.CommunityID)
	if err != nil || len(bs) < 2 {
		return nil, err
	}
	value, button := ui.T("spaces.settings.receives"), ui.Button{Label: ui.T("spaces.settings.refuse"), Action: ActSettingsShared, Payload: "off"}
	if b.RefusesShared {
		value, button = ui.T("spaces.settings.refuses"), ui.Button{Label: ui.T("spaces.settings.receive"), Action: ActSettingsShared, Payload: "on"}
	}
	card.Fields = append(card.Fields, ui.Field{Label: ui.T("spaces.settings.field"), Value: value})
	return &button, nil
}

// categoryCardFields are one category's settings.
func categoryCardFields(c store.Category) []ui.Field {
	none := ui.T("settings.value.catalogue_label")
	return []ui.Field{
		{Label: ui.T("settings.field.key"), Value: textValue(c.Key)},
		{Label: ui.T("settings.field.label_en"), Value: orNone(c.LabelEN, none)},
		{Label: ui.T("settings.field.label_fr"), Value: orNone(c.LabelFR, none)},
		{Label: ui.T("settings.field.risk"), Value: riskLabel(c.Risk)},
		{Label: ui.T("settings.field.tier"), Value: tierLabel(c.Tier)},
		{Label: ui.T("settings.field.helpers"), Value: ui.T("settings.value.helpers", "Count", max(c.Helpers, 1))},
	}
}

// categoriesCard lists the categories, with a menu to change one and a button to add one.
func (s *Service) categoriesCard(ctx context.Context, tx *store.Tx, a Actor) (ui.Card, error) {
	cats, err := tx.Categories(ctx, a.CommunityID)
	if err != nil {
		return ui.Card{}, err
	}
	card := ui.Card{Title: ui.T("settings.categories.title")}
	opts := make([]ui.Option, 0, len(cats))
	for _, c := range cats {
		card.Body = append(card.Body, ui.T("settings.category.line", "Name", categoryName(c), "Key", c.Key, "Risk", riskLabel(c.Risk),
			"Tier", tierLabel(c.Tier), "Count", max(c.Helpers, 1)))
		opts = append(opts, ui.Option{Label: categoryName(c), Value: c.Key})
	}
	card.Buttons = []ui.Button{
		{Label: ui.T("settings.button.add_category"), Action: ActSettingsCategoryAdd, Style: ui.StylePrimary},
		{Label: ui.T("settings.button.back"), Action: ActSettingsShow},
	}
	if len(opts) > 0 {
		card.Choice = &ui.Choice{Action: ActSettingsCategoryPick, Placeholder: ui.T("settings.categories.pick"), Options: opts}
	}
	return card, nil
}

// resourcesCard lists the community's own crisis lines, and says which tend adds for
// its region.
func (s *Service) resourcesCard(ctx context.Context, tx *store.Tx, a Actor) (ui.Card, error) {
	c, err := tx.Community(ctx, a.CommunityID)
	if err != nil {
		return ui.Card{}, err
	}
	rs, err := tx.CrisisResources(ctx, a.CommunityID)
	if err != nil {
		return ui.Card{}, err
	}
	card := ui.Card{Title: ui.T("settings.resources.title")}
	opts := make([]ui.Option, 0, len(rs))
	for _, r := range rs {
		card.Body = append(card.Body, ui.T("mod.resource", "Label", ui.UserText(r.Label), "Contact", ui.UserText(r.Contact)))
		opts = append(opts, ui.Option{Label: textValue(r.Label), Value: Ref(r.ID)})
	}
	if len(rs) == 0 {
		card.Body = append(card.Body, ui.T("settings.resources.none"))
	}
	if HasDefaultResources(c.Region) {
		card.Body = append(card.Body, ui.T("settings.resources.region", "Region", regionLabel(c.Region)))
	} else {
		card.Body = append(card.Body, ui.T("setup.done.resources"))
	}
	card.Buttons = []ui.Button{
		{Label: ui.T("settings.button.add_resource"), Action: ActSettingsResourceAdd, Style: ui.StylePrimary},
		{Label: ui.T("settings.button.back"), Action: ActSettingsShow},
	}
	if len(opts) > 0 {
		card.Choice = &ui.Choice{Action: ActSettingsResourceRemove, Placeholder: ui.T("settings.resources.pick_remove"), Options: opts}
	}
	return card, nil
}

// moderatorsCard lists the moderators named from chat or the command line.
func (s *Service) moderatorsCard(ctx context.Context, tx *store.Tx, a Actor) (ui.Card, error) {
	mods, err := tx.Moderators(ctx, a.CommunityID)
	if err != nil {
		return ui.Card{}, err
	}
	card := ui.Card{Title: ui.T("settings.moderators.title")}
	opts := make([]ui.Option, 0, len(mods))
	for _, m := range mods {
		who := m.Platform + ":" + m.UserID
		card.Body = append(card.Body, ui.T("settings.moderator.line", "Platform", ui.UserText(m.Platform), "User", ui.UserText(m.UserID)))
		opts = append(opts, ui.Option{Label: textValue(who), Value: who})
	}
	card.Body = append(card.Body, ui.T("settings.moderators.others"))
	card.Buttons = []ui.Button{
		{Label: ui.T("settings.button.add_moderator"), Action: ActSettingsModeratorAdd, Style: ui.StylePrimary},
		{Label: ui.T("settings.button.back"), Action: ActSettingsShow},
	}
	if len(opts) > 1 {
		card.Choice = &ui.Choice{Action: ActSettingsModeratorDrop, Placeholder: ui.T("settings.moderators.pick_remove"), Options: opts}
	}
	return card, nil
}
