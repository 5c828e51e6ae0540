package bot

import "context"

// Reply is what answers an event on the interaction itself, inside the platform's
// deadline: private messages to the person who acted, a form to open, or form errors.
// Everything else a flow says goes through the outbox.
type Reply struct {
	// Messages are shown only to the actor: ephemeral in a channel, or in the DM where
	// they wrote.
	Messages []Rendered `json:"messages,omitempty"`
	// InDM says the event came from a direct conversation, so Messages belong there.
	InDM bool `json:"in_dm,omitempty"`
	// Form is a form to open natively (adapters with FormOpener).
	Form *RenderedForm `json:"form,omitempty"`
	// FieldErrors are messages for fields of a submitted modal, by field name.
	FieldErrors map[string]string `json:"field_errors,omitempty"`

	// private marks a reply that shows private details; it is never stored.
	private bool
}

// Handler takes an event from an adapter. It returns once the event's state change and
// its outgoing messages are committed; the adapter then acknowledges with the Reply.
type Handler interface {
	Handle(ctx context.Context, ev Event) (Reply, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, ev Event) (Reply, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, ev Event) (Reply, error) { return f(ctx, ev) }

// Flusher is a handler that can deliver everything already committed for sending before
// it returns; the console uses it so a transcript reads in order.
type Flusher interface {
	Flush(ctx context.Context) error
}
