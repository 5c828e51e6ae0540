package discordtest

import (
	"encoding/json"
	"slices"
)

// Call is one REST request the fake answered.
type Call struct {
	Method string
	Path   string // URL path, e.g. "/api/v10/channels/1/messages"
	Query  string // raw query, without "?"
	Body   []byte
	Status int
}

// Identify is a decoded IDENTIFY (op 2) payload.
type Identify struct {
	Token          string
	Intents        int64
	Shard          []int // [shard_id, num_shards], nil when not sent
	Properties     map[string]string
	Compress       bool
	LargeThreshold int
	Raw            json.RawMessage // the whole "d"
}

// Resume is a decoded RESUME (op 6) payload.
type Resume struct {
	Token     string
	SessionID string
	Seq       int64
}

// Button is a button component of a message.
type Button struct {
	Label    string
	CustomID string
	Style    int
	URL      string
	Disabled bool
}

// SelectOption is one option of a string select.
type SelectOption struct {
	Label, Value, Description string
	Default                   bool
}

// Select is a string select component of a message.
type Select struct {
	CustomID    string
	Placeholder string
	Options     []SelectOption
	MinValues   int
	MaxValues   int
	Disabled    bool
}

// EmbedField is one field of an embed.
type EmbedField struct {
	Name, Value string
	Inline      bool
}

// Embed is a decoded embed; Raw is its JSON as posted.
type Embed struct {
	Title       string
	Description string
	URL         string
	Color       int
	Footer      string
	Fields      []EmbedField
	Raw         json.RawMessage
}

// Message is one post or edit of a message by the bot, with the full state of
// the message after it.
type Message struct {
	ID        string
	ChannelID string
	GuildID   string // "" in DMs (and in channels the fake never saw in a guild interaction)
	DMUser    string // the recipient when ChannelID is a DM channel
	// EphemeralTo is the user who alone sees the message (interaction
	// responses and follow-ups with flag 64).
	EphemeralTo     string
	Content         string
	Embeds          []Embed
	Buttons         []Button // every button, flattened from the components
	Select          *Select  // the first string select, if any
	Components      json.RawMessage
	AllowedMentions json.RawMessage
	Flags           int
	Nonce           string
	// Edit is true for an edit: the record carries the message's full new
	// state. The first fill of a deferred (type 5) response through PATCH
	// @original is not an edit: it is when the message gets its content.
	Edit    bool
	Deleted bool
	// Via says how the bot produced it: "channel" (POST/PATCH
	// /channels/{cid}/messages), "callback" (interaction response type 4 or
	// 7), "followup" (POST /webhooks/{app}/{token} or a PATCH of a
	// follow-up) or "original" (PATCH /webhooks/{app}/{token}/messages/@original).
	Via string
	// InteractionID is the interaction the message answers, if any.
	InteractionID string
	// JSON is the message object as the fake stored it after this change.
	JSON json.RawMessage
}

// Callback is an accepted interaction response (POST
// /interactions/{id}/{token}/callback).
type Callback struct {
	InteractionID string
	Type          int
	Data          json.RawMessage
}

// Modal is a modal the bot opened (interaction response type 9).
type Modal struct {
	CustomID string
	Title    string
	Fields   []ModalField
}

// ModalField is one text input of a modal, in the modal's order.
type ModalField struct {
	CustomID    string
	Label       string
	Style       int
	Placeholder string
	Value       string
	Required    bool
	MinLength   int
	MaxLength   int
}

type modalRec struct {
	interactionID string
	modal         Modal
	used          bool // submitted already
}

// Calls returns every REST request answered so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		c.Body = slices.Clone(c.Body)
		out[i] = c
	}
	return out
}

// Messages returns every message post and edit by the bot, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.records)
}

// MessageByID returns the latest record of a message.
func (s *Server) MessageByID(id string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.records) - 1; i >= 0; i-- {
		if s.records[i].ID == id {
			return s.records[i], true
		}
	}
	return Message{}, false
}

// Callbacks returns the accepted interaction responses, in order.
func (s *Server) Callbacks() []Callback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.callbacks)
}

// Modal returns the modal the bot opened in response to an interaction.
func (s *Server) Modal(interactionID string) (Modal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.modals[interactionID]
	m.Fields = slices.Clone(m.Fields)
	return m, ok
}

// Problems returns the protocol violations seen so far.
func (s *Server) Problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.problems)
}

// Commands returns the stored application commands of a guild, or the
// global ones for "".
func (s *Server) Commands(guildID string) []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []json.RawMessage
	for _, c := range s.commands[guildID] {
		b, _ := json.Marshal(c)
		out = append(out, b)
	}
	return out
}

// Identifies returns the IDENTIFY payloads received, in order.
func (s *Server) Identifies() []Identify {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.identifies)
}

// Resumes returns the RESUME payloads received, in order.
func (s *Server) Resumes() []Resume {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.resumes)
}

// HeartbeatAcks returns how many HEARTBEAT_ACKs the fake sent.
func (s *Server) HeartbeatAcks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acks
}

// storedMsg is the fake's copy of a message.
type storedMsg struct {
	obj             map[string]any // the message object as returned by the API
	id, channelID   string
	guildID, dmUser string
	ephemeralTo     string
	nonce           string
	interactionID   string
	author          string // the user who wrote it; "" for the bot
	allowedMentions json.RawMessage
	deleted         bool
}

// recordLocked appends a Message record of the message's current state.
func (s *Server) recordLocked(m *storedMsg, via string, edit bool) Message {
	raw, _ := json.Marshal(m.obj)
	var w struct {
		Content    string            `json:"content"`
		Flags      int               `json:"flags"`
		Embeds     []json.RawMessage `json:"embeds"`
		Components json.RawMessage   `json:"components"`
	}
	_ = json.Unmarshal(raw, &w)
	rec := Message{
		ID: m.id, ChannelID: m.channelID, GuildID: m.guildID, DMUser: m.dmUser,
		EphemeralTo: m.ephemeralTo, Content: w.Content, Flags: w.Flags, Components: w.Components,
		AllowedMentions: m.allowedMentions, Nonce: m.nonce, Edit: edit, Deleted: m.deleted,
		Via: via, InteractionID: m.interactionID, JSON: raw,
	}
	for _, e := range w.Embeds {
		rec.Embeds = append(rec.Embeds, decodeEmbed(e))
	}
	walkComponents(m.obj["components"], func(c map[string]any) {
		switch t, _ := num(c["type"]); t {
		case 2:
			style, _ := num(c["style"])
			rec.Buttons = append(rec.Buttons, Button{
				Label: strOf(c["label"]), CustomID: strOf(c["custom_id"]), Style: int(style),
				URL: strOf(c["url"]), Disabled: c["disabled"] == true,
			})
		case 3:
			if rec.Select == nil {
				rec.Select = decodeSelect(c)
			}
		}
	})
	s.records = append(s.records, rec)
	return rec
}

func decodeEmbed(raw json.RawMessage) Embed {
	var w struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		URL         string `json:"url"`
		Color       int    `json:"color"`
		Footer      struct {
			Text string `json:"text"`
		} `json:"footer"`
		Fields []struct {
			Name   string `json:"name"`
			Value  string `json:"value"`
			Inline bool   `json:"inline"`
		} `json:"fields"`
	}
	_ = json.Unmarshal(raw, &w)
	e := Embed{Title: w.Title, Description: w.Description, URL: w.URL, Color: w.Color, Footer: w.Footer.Text, Raw: raw}
	for _, f := range w.Fields {
		e.Fields = append(e.Fields, EmbedField{Name: f.Name, Value: f.Value, Inline: f.Inline})
	}
	return e
}

func decodeSelect(c map[string]any) *Select {
	sel := &Select{CustomID: strOf(c["custom_id"]), Placeholder: strOf(c["placeholder"]), MinValues: 1, MaxValues: 1, Disabled: c["disabled"] == true}
	if n, ok := num(c["min_values"]); ok {
		sel.MinValues = int(n)
	}
	if n, ok := num(c["max_values"]); ok {
		sel.MaxValues = int(n)
	}
	opts, _ := c["options"].([]any)
	for _, o := range opts {
		om, _ := o.(map[string]any)
		sel.Options = append(sel.Options, SelectOption{
			Label: strOf(om["label"]), Value: strOf(om["value"]),
			Description: strOf(om["description"]), Default: om["default"] == true,
		})
	}
	return sel
}

// walkComponents calls f on every component in a component tree (action
// rows, and the containers, sections and labels of newer layouts).
func walkComponents(v any, f func(map[string]any)) {
	switch x := v.(type) {
	case []any:
		for _, c := range x {
			walkComponents(c, f)
		}
	case map[string]any:
		f(x)
		walkComponents(x["components"], f)
		walkComponents(x["component"], f)
		walkComponents(x["accessory"], f)
	}
}
