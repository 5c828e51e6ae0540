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
	ID        string `json:"id,omitempty"`
	Platform  string `json:"platform,omitempty"`
	Workspace string `json:"workspace,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	UserName  string `json:"user_name,omitempty"`
	// PlatformAdmin says the platform itself calls this person an administrator of the
	// space (Slack workspace admin or owner, Discord "Manage Server", Mattermost team
	// admin): only they may set tend up in a space that is not yet bound.
	PlatformAdmin bool `json:"platform_admin,omitempty"`
	// Locale is the person's language where the platform knows it ("fr", "en-GB").
	Locale string    `json:"locale,omitempty"`
	Kind   EventKind `json:"kind,omitempty"`
	// ChannelID is where it happened; InDM is true for a direct conversation with the bot.
	ChannelID string `json:"channel_id,omitempty"`
	InDM      bool   `json:"in_dm,omitempty"`
	// Command and Args for EventCommand: "/tend ask now" is Command "ask", Args ["now"].
	Command string   `json:"command,omitempty"`
	Args    []string `json:"args,omitempty"`
	// Action and Payload for EventButton, as the button carried them; Value is what was
	// picked from a choice.
	Action  string `json:"action,omitempty"`
	Payload string `json:"payload,omitempty"`
	Value   string `json:"value,omitempty"`
	// Text for EventText.
	Text string `json:"text,omitempty"`
	// FormID, FormPayload and Values for EventForm.
	FormID      string            `json:"form_id,omitempty"`
	FormPayload string            `json:"form_payload,omitempty"`
	Values      map[string]string `json:"values,omitempty"`
	// Partial marks one part of a form that more parts follow (adapters with FormParts).
	Partial bool `json:"partial,omitempty"`
	// MessageID is the platform message a button sat on, where known.
	MessageID  string    `json:"message_id,omitempty"`
	ReceivedAt time.Time `json:"received_at,omitempty"`
}
