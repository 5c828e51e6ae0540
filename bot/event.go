// Package bot is tend's platform-neutral core: events in, neutral UI out, the router
// between them, identity resolution, permissions and delivery through adapters.
package bot

import "time"

// EventKind says what a person did.
type EventKind string

// Event kinds.
const (
	// EventCommand is a slash command such as "/tend ask".
	EventCommand EventKind = "command"
	// EventButton is a button press or a choice picked from a menu.
	EventButton EventKind = "button"
	// EventText is a plain message to the bot (a DM), used by the DM dialogue.
	EventText EventKind = "text"
	// EventForm is a submitted form (a modal).
	EventForm EventKind = "form"
)

// Event is one thing that happened on a platform, translated by its adapter.
type Event struct {
	// ID identifies the delivery for de-duplication: unique within Platform and Workspace.
	ID        string
	Platform  string
	Workspace string
	UserID    string
	UserName  string
	// Locale is the person's language where the platform knows it ("fr", "en-GB").
	Locale string
	Kind   EventKind
	// ChannelID is where it happened; InDM is true for a direct conversation with the bot.
	ChannelID string
	InDM      bool
	// Command and Args for EventCommand: "/tend ask now" is Command "ask", Args ["now"].
	Command string
	Args    []string
	// Action and Payload for EventButton, as the button carried them; Value is what was
	// picked from a choice.
	Action  string
	Payload string
	Value   string
	// Text for EventText.
	Text string
	// FormID, FormPayload and Values for EventForm.
	FormID      string
	FormPayload string
	Values      map[string]string
	// MessageID is the platform message a button sat on, where known.
	MessageID  string
	ReceivedAt time.Time
}
