package bot

import "context"

// DestKind is the kind of place a message is delivered to.
type DestKind string

// Destination kinds.
const (
	// DestChannel is a channel everyone in it can read.
	DestChannel DestKind = "channel"
	// DestDM is a direct conversation between the bot and one person.
	DestDM DestKind = "dm"
	// DestEphemeral is shown in a channel to one person only.
	DestEphemeral DestKind = "ephemeral"
)

// Destination is a platform place: a channel, a person's DMs, or one person in a channel.
type Destination struct {
	Kind      DestKind
	Workspace string
	ChannelID string
	UserID    string
	// UserName is for adapters that show names (the console); never used as a key.
	UserName string
}

// Rendered is a card localised for its reader, with user text already sanitised.
type Rendered struct {
	Title   string
	Body    []string
	Fields  []RenderedField
	Buttons []RenderedButton
	Choice  *RenderedChoice
}

// RenderedField is a labelled value.
type RenderedField struct{ Label, Value string }

// RenderedButton is a localised button.
type RenderedButton struct {
	Label   string
	Action  string
	Payload string
	Style   string
}

// RenderedChoice is a localised choice menu.
type RenderedChoice struct {
	Action      string
	Placeholder string
	Options     []RenderedOption
}

// RenderedOption is a localised choice option.
type RenderedOption struct{ Label, Value string }

// RenderedForm is a localised form.
type RenderedForm struct {
	ID      string
	Payload string
	Title   string
	Fields  []RenderedFormField
}

// RenderedFormField is a localised form field.
type RenderedFormField struct {
	Name     string
	Kind     string
	Label    string
	Help     string
	Options  []RenderedOption
	Required bool
	MaxLen   int
	Default  string
}

// Adapter is what every platform provides: sending a message to a destination, and
// returning the platform's message id so later edits can find it.
type Adapter interface {
	Platform() string
	Send(ctx context.Context, to Destination, msg Rendered) (messageID string, err error)
}

// Editor is an adapter that can edit a message it sent (board cards updated in place).
type Editor interface {
	Edit(ctx context.Context, to Destination, messageID string, msg Rendered) error
}

// DirectMessenger is an adapter that can open a direct conversation with a person.
// Adapters without it receive DM destinations as ephemeral replies where they can.
type DirectMessenger interface {
	CanDM() bool
}

// FormOpener is an adapter that shows forms natively (modals). The event is the one that
// asked for the form, which carries what the platform needs (a trigger id). Without it,
// the bot walks the person through the form in a DM dialogue.
type FormOpener interface {
	OpenForm(ctx context.Context, ev Event, form RenderedForm) error
}
