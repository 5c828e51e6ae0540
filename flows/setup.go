package flows

import (
	"context"
	"fmt"
	"strings"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/store"
)

// Setting tend up from chat. In a space that is not bound yet, a platform administrator
// types /tend setup in the channel meant for the board and either starts a new
// community or joins this space to an existing one with a one-time code from one of its
// moderators. Either way the channel becomes the board and the administrator a
// moderator; /tend setup moderators, typed in the private channel meant for the
// moderators, makes it theirs (until then their notices come to the moderators by
// direct message), and /tend setup alerts does the same for urgent cases.
//
// The bot lets a space that is not bound reach these flows only (their command, buttons,
// forms and dialogue), with an Actor whose CommunityID is 0.

// Buttons and forms of setup.
const (
	ActSetupNew   = "setup.new"
	ActSetupJoin  = "setup.join"
	FormSetupNew  = "setup.new"
	FormSetupJoin = "setup.join"
)

// setupCommands are /tend setup's names; setupChannels the channels it can set, by the
// words that name them in English and French.
var (
	setupCommands = []string{"setup", "configurer"}
	setupChannels = map[string]string{
		"moderators": store.ChannelModerators, "mods": store.ChannelModerators, "moderateurs": store.ChannelModerators,
		"alerts": store.ChannelAlerts, "alertes": store.ChannelAlerts, "alert": store.ChannelAlerts, "alerte": store.ChannelAlerts,
		"board": store.ChannelBoard, "tableau": store.ChannelBoard,
	}
	offWords = []string{"off", "none", "aucun", "aucune", "non"}
)

// IsSetupCommand reports whether a command is /tend setup, in either language.
func IsSetupCommand(cmd string) bool { return hasString(setupCommands, fold(cmd)) }

// IsSetupAction reports whether a button belongs to setup.
func IsSetupAction(action string) bool { return action == ActSetupNew || action == ActSetupJoin }

// IsSetupForm reports whether a form belongs to setup.
func IsSetupForm(id string) bool { return id == FormSetupNew || id == FormSetupJoin }

// setupRoutes adds /tend setup and its buttons and forms.
func (s *Service) setupRoutes(r *Routes) {
	for _, name := range setupCommands {
		r.Commands[name] = s.Setup
	}
	r.Buttons[ActSetupNew] = s.SetupNewForm
	r.Buttons[ActSetupJoin] = s.SetupJoinForm
	r.Forms[FormSetupNew] = s.SetupNew
	r.Forms[FormSetupJoin] = s.SetupJoin
}

// Setup is /tend setup [moderators|alerts|board [off]].
func (s *Service) Setup(ctx context.Context, a Actor, args []string) (Result, error) {
	sub := fold(nthArg(args, 0))
	which, known := setupChannels[sub]
	if a.CommunityID == 0 {
		switch {
		case !a.PlatformAdmin:
			return reply("setup.admins_only"), nil
		case sub != "":
			return reply("setup.first"), nil
		case a.InDM || a.Channel == "":
			return reply("setup.in_channel"), nil
		}
		return Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{
			Title: ui.T("setup.start.title"),
			Body:  []ui.Text{ui.T("setup.start.body"), ui.T("setup.start.choose")},
			Buttons: []ui.Button{
				{Label: ui.T("setup.button.new"), Action: ActSetupNew, Payload: a.Channel, Style: ui.StylePrimary},
				{Label: ui.T("setup.button.join"), Action: ActSetupJoin, Payload: a.Channel},
			},
		}}}}, nil
	}
	switch {
	case sub == "":
		return s.setupAlready(ctx, a)
	case !known:
		return reply("setup.usage"), nil
	case !a.Moderator:
		return reply("settings.mods_only"), nil
	case a.InDM || a.Channel == "":
		return reply("setup.channel.in_channel"), nil
	}
	channel := a.Channel
	if which == store.ChannelAlerts && hasString(offWords, fold(nthArg(args, 1))) {
		channel = ""
	}
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		refusal, err := SetChannel(ctx, tx, a, a.Platform, a.Workspace, which, channel)
		if err != nil || !refusal.Empty() {
			return Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{Body: []ui.Text{refusal}}}}}, false, err
		}
		done := map[string]string{store.ChannelBoard: "setup.channel.board_set", store.ChannelModerators: "setup.channel.moderators_set",
			store.ChannelAlerts: "setup.channel.alerts_set"}[which]
		if channel == "" {
			done = "setup.channel.alerts_off"
		}
		return reply(done), true, nil
	})
}

// setupAlready answers /tend setup in a space that is set up: what it is, and for
// moderators where to change it.
func (s *Service) setupAlready(ctx context.Context, a Actor) (Result, error) {
	var res Result
	err := s.read(ctx, func(tx *store.Tx) error {
		c, _, err := community(ctx, tx, a.CommunityID)
		if err != nil {
			return err
		}
		card := ui.Card{Body: []ui.Text{ui.T("setup.already", "Community", ui.UserText(c.Name))}}
		if a.Moderator {
			b, err := tx.BindingFor(ctx, a.Platform, a.Workspace)
			if err != nil && !isNotFound(err) {
				return err
			}
			if err == nil && b.ModeratorsChannel == "" {
				card.Body = append(card.Body, ui.T("setup.no_mod_channel"))
			}
			card.Body = append(card.Body, ui.T("setup.already.moderator"))
		} else {
			card.Body = append(card.Body, ui.T("setup.already.member"))
		}
		res.add(ui.Out{To: ui.Actor(), Card: card})
		return nil
	})
	return res, err
}

// setupGate refuses a setup step where it cannot happen: a space already set up, someone
// who is not an administrator of the space, or no channel for the board.
func setupGate(a Actor, channel string) (Result, bool) {
	switch {
	case a.CommunityID != 0:
		return reply("setup.already_here"), false
	case !a.PlatformAdmin:
		return reply("setup.admins_only"), false
	case strings.TrimSpace(channel) == "":
		return reply("setup.in_channel"), false
	}
	return Result{}, true
}

// SetupNewForm opens the new community's form; the payload is the board's channel.
func (s *Service) SetupNewForm(_ context.Context, a Actor, payload, _ string) (Result, error) {
	if res, ok := setupGate(a, payload); !ok {
		return res, nil
	}
	return Result{Form: setupNewForm(payload, catalog.Pick(a.Locale, "en"))}, nil
}

func setupNewForm(channel, lang string) *ui.Form {
	return &ui.Form{ID: FormSetupNew, Payload: channel, Title: ui.T("setup.new.title"), Fields: generalFields(map[string]string{
		FieldLocale: lang, FieldRetention: fmt.Sprint(DefaultRetention)}, false)}
}

// generalFields are the questions of a community's general settings with defaults;
// editing keeps the current region as the default.
func generalFields(def map[string]string, editing bool) []ui.FormField {
	region := ui.FormField{Name: FieldRegion, Kind: ui.FieldChoice, Label: ui.T("settings.field.region"), Help: ui.T("settings.help.region"),
		Required: true, Options: regionOptions()}
	if editing {
		region.Default = def[FieldRegion]
	}
	return []ui.FormField{
		{Name: FieldName, Kind: ui.FieldText, Label: ui.T("settings.field.name"), Help: ui.T("settings.help.name"), Required: true,
			MaxLen: MaxCommunityName, Default: def[FieldName]},
		{Name: FieldLocale, Kind: ui.FieldChoice, Label: ui.T("settings.field.locale"), Required: true, Default: def[FieldLocale],
			Options: []ui.Option{{Label: ui.T("language.en"), Value: "en"}, {Label: ui.T("language.fr"), Value: "fr"}}},
		{Name: FieldTimezone, Kind: ui.FieldText, Label: ui.T("settings.field.timezone"), Help: ui.T("settings.help.timezone"), Required: true,
			MaxLen: 64, Default: def[FieldTimezone]},
		region,
		{Name: FieldRetention, Kind: ui.FieldText, Label: ui.T("settings.field.retention_days"), Help: ui.T("settings.help.retention_days", "Max", MaxRetentionDays),
			Required: true, MaxLen: 4, Default: def[FieldRetention]},
		{Name: FieldOfficer, Kind: ui.FieldText, Label: ui.T("settings.field.privacy_officer"), Help: ui.T("settings.help.privacy_officer"),
			MaxLen: MaxOfficer, Default: def[FieldOfficer]},
	}
}

func regionOptions() []ui.Option {
	return []ui.Option{
		{Label: ui.T("settings.region.ca"), Value: "CA"}, {Label: ui.T("settings.region.ca_qc"), Value: "CA-QC"},
		{Label: ui.T("settings.region.us"), Value: "US"}, {Label: ui.T("settings.region.none"), Value: RegionNone},
	}
}

// SetupNew creates the community from the form, binds this space with the channel where
// setup began as its board, and makes the administrator its first moderator.
func (s *Service) SetupNew(ctx context.Context, a Actor, payload string, in map[string]string) (Result, error) {
	if res, ok := setupGate(a, payload); !ok {
		return res, nil
	}
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		if _, err := tx.BindingFor(ctx, a.Platform, a.Workspace); err == nil {
			return reply("setup.already_here"), false, nil
		} else if !isNotFound(err) {
			return Result{}, false, err
		}
		c, errs, err := NewCommunity(ctx, tx, a, "", in)
		if err != nil || len(errs) > 0 {
			return Result{Errors: errs}, false, err
		}
		a.CommunityID = c.ID
		if err := s.setupSpace(ctx, tx, a, payload); err != nil {
			return Result{}, false, err
		}
		res := Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{
			Title: ui.T("setup.done.title", "Community", ui.UserText(c.Name)),
			Body:  setupNext(c.Region),
		}}}}
		res.add(boardHello(c))
		return res, true, nil
	})
}

// setupSpace binds the actor's space to their community with channel as the board and
// names them a moderator.
func (s *Service) setupSpace(ctx context.Context, tx *store.Tx, a Actor, channel string) error {
	errs, err := BindSpace(ctx, tx, a, store.Binding{Platform: a.Platform, Workspace: a.Workspace, BoardChannel: channel})
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		// The gate and the check before it make this unreachable; never half bind.
		return fmt.Errorf("flows: setup could not bind %s/%s", a.Platform, a.Workspace)
	}
	_, errs, err = AddModerator(ctx, tx, a, a.Platform, a.UserID)
	if err == nil && len(errs) > 0 {
		err = fmt.Errorf("flows: setup could not name the administrator a moderator")
	}
	return err
}

// setupNext is what to do after setup: the moderators' channel, settings, and crisis
// lines where tend knows none for the region.
func setupNext(region string) []ui.Text {
	out := []ui.Text{ui.T("setup.done.board"), ui.T("setup.done.moderators"), ui.T("setup.done.settings")}
	if !HasDefaultResources(region) {
		out = append(out, ui.T("setup.done.resources"))
	}
	return out
}

// boardHello is the first card on a new board: what tend is and how to start.
func boardHello(c store.Community) ui.Out {
	return ui.Out{To: ui.Board(c.ID), Card: ui.Card{
		Title: ui.T("setup.hello.title", "Community", ui.UserText(c.Name)),
		Body:  []ui.Text{ui.T("setup.hello.body")},
	}}
}

// SetupJoinForm asks for the one-time code; the payload is the board's channel.
func (s *Service) SetupJoinForm(_ context.Context, a Actor, payload, _ string) (Result, error) {
	if res, ok := setupGate(a, payload); !ok {
		return res, nil
	}
	return Result{Form: &ui.Form{ID: FormSetupJoin, Payload: payload, Title: ui.T("setup.join.title"), Fields: []ui.FormField{
		{Name: FieldCode, Kind: ui.FieldText, Label: ui.T("setup.join.field.code"), Help: ui.T("setup.join.help.code"), Required: true, MaxLen: 40, Private: true},
	}}}, nil
}

// SetupJoin joins this space to the community of a one-time code. A wrong, used or
// expired code is refused without saying which; a wrong try is counted against the code
// it aimed at and kept.
func (s *Service) SetupJoin(ctx context.Context, a Actor, payload string, in map[string]string) (Result, error) {
	if res, ok := setupGate(a, payload); !ok {
		return res, nil
	}
	code := strings.TrimSpace(in[FieldCode])
	if code == "" {
		return Result{Errors: []ui.FieldError{{Field: FieldCode, Msg: ui.T("settings.error.required", "Field", ui.T("setup.join.field.code"))}}}, nil
	}
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		if _, err := tx.BindingFor(ctx, a.Platform, a.Workspace); err == nil {
			return reply("setup.already_here"), false, nil
		} else if !isNotFound(err) {
			return Result{}, false, err
		}
		before := tx.Writes()
		id, ok, err := tx.RedeemJoinCode(ctx, code, a.Platform, a.Workspace)
		if err != nil {
			return Result{}, false, err
		}
		if !ok {
			s.log.Info("join code refused", "platform", a.Platform)
			return Result{Errors: []ui.FieldError{{Field: FieldCode, Msg: ui.T("setup.join.bad_code")}}}, tx.Writes() != before, nil
		}
		a.CommunityID = id
		c, err := tx.Community(ctx, id)
		if err != nil {
			return Result{}, false, err
		}
		if err := settingsAudit(ctx, tx, a, "settings.code.used", "space:"+a.Platform+"/"+a.Workspace, ""); err != nil {
			return Result{}, false, err
		}
		if err := s.setupSpace(ctx, tx, a, payload); err != nil {
			return Result{}, false, err
		}
		res := Result{Outs: []ui.Out{{To: ui.Actor(), Card: ui.Card{
			Title: ui.T("setup.joined.title", "Community", ui.UserText(c.Name)),
			Body:  []ui.Text{ui.T("setup.done.board"), ui.T("setup.done.moderators"), ui.T("setup.done.settings")},
		}}}}
		// No hello on the board: the community's boards are addressed together, and the
		// other spaces' members need no news of this one.
		return res, true, nil
	})
}
