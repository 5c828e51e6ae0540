// Package ui is the neutral user interface the flows speak: cards, buttons, choices and
// forms, addressed to people and places. Adapters turn it into each platform's own UI.
package ui

// Text is a message id from the catalogues plus its arguments. Flows never build finished
// sentences; the renderer localises Text for each reader.
type Text struct {
	ID   string
	Args map[string]any
	// Fallback is shown when the catalogues have no such id (a community's own category).
	Fallback string
	// Raw is text already localised (a question of a form being answered in a dialogue).
	Raw string
	// ByLang is a community's own words in each language it gave ("en", "fr"), such as
	// a category's label: the reader's language is shown, else the first given of the
	// catalogue's languages. It is user text, sanitised when rendered.
	ByLang map[string]string
}

// RawText is text that is already localised.
func RawText(s string) Text { return Text{Raw: s} }

// Window is a time window argument, formatted for the reader in the community's zone.
type Window struct {
	Start, End int64
	Zone       string
}

// UserText marks an argument that a person typed. The renderer passes it through the
// sanitiser so it can never ping anyone.
type UserText string

// Sealed is an argument whose clear value stays sealed in the store: the name of a
// person asked for by someone else, a one-time code. Flows name it by kind and row; the
// bot opens it for its reader only when the message is rendered, so neither the outbox
// nor a stored reply holds it.
type Sealed struct {
	Kind string `json:"k"`
	Ref  int64  `json:"r"`
}

// T builds a Text from an id and alternating key/value pairs.
func T(id string, kv ...any) Text {
	t := Text{ID: id}
	if len(kv) > 0 {
		t.Args = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			k, _ := kv[i].(string)
			t.Args[k] = kv[i+1]
		}
	}
	return t
}

// Empty reports whether the text carries no message.
func (t Text) Empty() bool { return t.ID == "" && t.Raw == "" && len(t.ByLang) == 0 }

// Style hints how a button should look where the platform can show it.
type Style string

// Button styles.
const (
	StyleDefault Style = ""
	StylePrimary Style = "primary"
	StyleDanger  Style = "danger"
)

// Field is a labelled value shown on a card.
type Field struct {
	Label Text
	Value Text
}

// Button carries an action id and an opaque payload back to the router when pressed.
type Button struct {
	Label   Text
	Action  string
	Payload string
	Style   Style
}

// Option is one entry of a choice or a form's choice field.
type Option struct {
	Label Text
	Value string
}

// Choice is a menu such as "pick a day"; adapters that cannot show one use buttons.
type Choice struct {
	Action      string
	Placeholder Text
	Options     []Option
}

// Card is one message: text, fields, buttons and at most one choice. Reveal, when set,
// names a disclosure row whose private details are decrypted only when the card is
// rendered for sending, so nothing private is kept in clear text on the way.
type Card struct {
	Title   Text
	Body    []Text
	Fields  []Field
	Buttons []Button
	Choice  *Choice
	Reveal  int64
	// CodeWord, when set, names a claim whose sealed visit code word is added to the card
	// only when it is rendered for that claim's helper or requester, as Reveal is.
	CodeWord int64
	// Secret marks a card that shows a one-time secret (a code that joins a space to a
	// community): it may only answer the actor, and the answer is never stored.
	Secret bool `json:",omitempty"`
}

// FieldKind is the type of a form field.
type FieldKind string

// Form field kinds.
const (
	FieldChoice   FieldKind = "choice"
	FieldText     FieldKind = "text"
	FieldLongText FieldKind = "longtext"
	FieldDateTime FieldKind = "datetime"
)

// FormField is one typed question of a form.
type FormField struct {
	Name     string
	Kind     FieldKind
	Label    Text
	Help     Text
	Options  []Option
	Required bool
	MaxLen   int
	Default  string
	// Private fields are encrypted while a dialogue holds them and never echoed back.
	Private bool
}

// Form is a set of questions. Adapters show it as a modal where they can and otherwise
// the bot walks the person through it as a direct-message dialogue.
type Form struct {
	ID      string
	Payload string
	Title   Text
	Fields  []FormField
}

// Field returns the named field, or nil.
func (f *Form) Field(name string) *FormField {
	for i := range f.Fields {
		if f.Fields[i].Name == name {
			return &f.Fields[i]
		}
	}
	return nil
}

// TargetKind says to whom or where an Out goes.
type TargetKind string

// Targets.
const (
	// ToActor answers the person who acted, privately, where they acted.
	ToActor TargetKind = "actor"
	// ToActorDM is a direct message to the person who acted, by their platform account,
	// member or not (an administrator setting tend up belongs to no community yet).
	ToActorDM TargetKind = "actor_dm"
	// ToMember is a direct message to a member.
	ToMember TargetKind = "member"
	// ToBoard is the community's public board channel.
	ToBoard TargetKind = "board"
	// ToModerators is the community's private moderators' channel.
	ToModerators TargetKind = "moderators"
	// ToAlerts is where an urgent case goes when the moderators have not answered: the
	// spaces' alert channels (the moderators' channel where none is set).
	ToAlerts TargetKind = "alerts"
	// ToPartner is a partner's route: a channel on a bound space, or its webhook.
	ToPartner TargetKind = "partner"
	// ToRequestBoards is the boards a request shows on: its origin space's, and when it
	// is shared, those of the community's other spaces that receive shared requests.
	ToRequestBoards TargetKind = "request_boards"
)

// Target addresses an Out.
type Target struct {
	Kind        TargetKind
	MemberID    int64
	CommunityID int64
	PartnerID   int64
	// Platform and UserID, when set on a ToMember target, pick that one account of the
	// member (a member with linked accounts is otherwise reached on the event's platform).
	Platform string
	UserID   string
	// Origin and Shared, on a ToRequestBoards target, are the space a request was asked
	// in and whether it shows in the community's other spaces. On a ToMember target they
	// say which spaces a message is about (MemberSeeing): a member with accounts on
	// several platforms is then reached on one of those spaces' platforms.
	Origin Space
	Shared bool
}

// Space names a platform space (a Slack team, a Discord guild, a Mattermost team).
type Space struct {
	Platform  string
	Workspace string
}

// Actor is the private reply to whoever acted.
func Actor() Target { return Target{Kind: ToActor} }

// ActorDM is a direct message to whoever acted, member or not.
func ActorDM() Target { return Target{Kind: ToActorDM} }

// Member is a direct message to one member.
func Member(id int64) Target { return Target{Kind: ToMember, MemberID: id} }

// MemberOn is a direct message to one given account of a member.
func MemberOn(id int64, platform, userID string) Target {
	return Target{Kind: ToMember, MemberID: id, Platform: platform, UserID: userID}
}

// Board is the public board of a community.
func Board(community int64) Target { return Target{Kind: ToBoard, CommunityID: community} }

// RequestBoards is the boards of a request asked in the origin space: that space's, and
// when shared, those of the community's other spaces that receive shared requests. An
// empty origin (a request older than origins) is every board of the community.
func RequestBoards(community int64, origin Space, shared bool) Target {
	return Target{Kind: ToRequestBoards, CommunityID: community, Origin: origin, Shared: shared}
}

// SpaceBoard is the board of one space of a community only.
func SpaceBoard(community int64, space Space) Target {
	return RequestBoards(community, space, false)
}

// MemberSeeing is a direct message to one member about something shown on boards: when
// the member has no account on the platform of the event, one of theirs in a space of
// boards is preferred.
func MemberSeeing(id int64, boards Target) Target {
	return Target{Kind: ToMember, MemberID: id, Origin: boards.Origin, Shared: boards.Shared, CommunityID: boards.CommunityID}
}

// Moderators is the private moderators' channel of a community.
func Moderators(community int64) Target {
	return Target{Kind: ToModerators, CommunityID: community}
}

// Alerts is the on-call channel of a community for urgent cases.
func Alerts(community int64) Target { return Target{Kind: ToAlerts, CommunityID: community} }

// Partner is a partner's route.
func Partner(id int64) Target { return Target{Kind: ToPartner, PartnerID: id} }

// Public reports whether everyone in a space can read what goes to the target.
func (t Target) Public() bool { return t.Kind == ToBoard || t.Kind == ToRequestBoards }

// Out is one thing to say or show. Key, when set, names a card that is edited in place
// on later updates ("request:12" on the board).
type Out struct {
	To   Target
	Card Card
	Form *Form
	Key  string
}

// FieldError is a validation message for one form field.
type FieldError struct {
	Field string
	Msg   Text
}
