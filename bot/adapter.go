package bot

import (
	"context"
	"errors"
	"fmt"
	"time"
)

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
	Kind      DestKind `json:"kind,omitempty"`
	Workspace string   `json:"workspace,omitempty"`
	ChannelID string   `json:"channel_id,omitempty"`
	UserID    string   `json:"user_id,omitempty"`
	// UserName is for adapters that show names (the console); never used as a key.
	UserName string `json:"user_name,omitempty"`
}

// Rendered is a card localised for its reader, with user text already sanitised.
type Rendered struct {
	Title   string           `json:"title,omitempty"`
	Body    []string         `json:"body,omitempty"`
	Fields  []RenderedField  `json:"fields,omitempty"`
	Buttons []RenderedButton `json:"buttons,omitempty"`
	Choice  *RenderedChoice  `json:"choice,omitempty"`
}

// RenderedField is a labelled value.
type RenderedField struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// RenderedButton is a localised button.
type RenderedButton struct {
	Label   string `json:"label,omitempty"`
	Action  string `json:"action,omitempty"`
	Payload string `json:"payload,omitempty"`
	Style   string `json:"style,omitempty"`
}

// RenderedChoice is a localised choice menu.
type RenderedChoice struct {
	Action      string           `json:"action,omitempty"`
	Placeholder string           `json:"placeholder,omitempty"`
	Options     []RenderedOption `json:"options,omitempty"`
}

// RenderedOption is a localised choice option.
type RenderedOption struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// RenderedForm is a localised form.
type RenderedForm struct {
	ID      string              `json:"id,omitempty"`
	Payload string              `json:"payload,omitempty"`
	Title   string              `json:"title,omitempty"`
	Fields  []RenderedFormField `json:"fields,omitempty"`
}

// RenderedFormField is a localised form field.
type RenderedFormField struct {
	Name     string           `json:"name,omitempty"`
	Kind     string           `json:"kind,omitempty"`
	Label    string           `json:"label,omitempty"`
	Help     string           `json:"help,omitempty"`
	Options  []RenderedOption `json:"options,omitempty"`
	Required bool             `json:"required,omitempty"`
	MaxLen   int              `json:"max_len,omitempty"`
	Default  string           `json:"default,omitempty"`
	// Private fields are never filled in from a draft: their answers are not echoed.
	Private bool `json:"private,omitempty"`
}

// Delivery is one message to send: where, what, and the idempotency key that makes a
// resend after a crash recognisable (passed on where the platform deduplicates, such as
// Discord's nonce or Mattermost's pending_post_id).
type Delivery struct {
	To  Destination `json:"to,omitempty"`
	Msg Rendered    `json:"msg,omitempty"`
	Key string      `json:"key,omitempty"`
}

// Adapter is what every platform provides: sending a message to a destination, and
// returning the platform's message id so later edits can find it. Send returns an error
// wrapping ErrPermanent when retrying cannot help (DMs closed, channel gone) and a
// *RateLimitError when the platform asked to wait.
type Adapter interface {
	Platform() string
	Send(ctx context.Context, d Delivery) (messageID string, err error)
}

// Editor is an adapter that can edit a message it sent (board cards updated in place).
type Editor interface {
	Edit(ctx context.Context, d Delivery, messageID string) error
}

// DirectMessenger is an adapter that can open a direct conversation with a person.
type DirectMessenger interface {
	CanDM() bool
}

// FormOpener is an adapter that shows forms natively (modals). Without it, the bot walks
// the person through the form in a DM dialogue.
type FormOpener interface {
	CanOpenForms() bool
}

// EventFormOpener is an adapter that can show a form natively for some events only:
// Mattermost opens a dialog with the trigger id of a slash command or a button press,
// while a message to the bot brings none. Where it says no, the DM dialogue serves. It
// takes precedence over FormOpener.
type EventFormOpener interface {
	CanOpenFormFor(ev Event) bool
}

// FormParts is a form opener whose native forms hold only part of a form at a time
// (Discord's modals hold five text inputs). The bot keeps a sealed draft of the answers
// between the parts: the adapter submits each part as an EventForm with Partial set and
// the last one without, and asks for the form again (to open its next part, or to fix
// refused answers) with a press of ActResumeForm.
type FormParts interface {
	FormsInParts() bool
}

// ErrPermanent marks a delivery failure that retrying will not fix.
var ErrPermanent = errors.New("permanent delivery failure")

// RateLimitError is a platform asking to wait before sending again (HTTP 429).
type RateLimitError struct {
	RetryAfter time.Duration `json:"retry_after,omitempty"`
	// Bucket names what is limited (a route, a channel, the whole platform); "" is global.
	Bucket string `json:"bucket,omitempty"`
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("rate limited for %s (bucket %q)", e.RetryAfter, e.Bucket)
}
