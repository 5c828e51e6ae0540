package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Texts travel through the outbox as JSON. Arguments keep their kind (user text, nested
// text, a time window, a number) so that rendering after a restart sanitises and
// localises exactly as rendering at once would.

type argJSON struct {
	User   *string     `json:"u,omitempty"`
	Text   *Text       `json:"t,omitempty"`
	Window *Window     `json:"w,omitempty"`
	Num    json.Number `json:"n,omitempty"`
	Str    *string     `json:"s,omitempty"`
	Sealed *Sealed     `json:"x,omitempty"`
}

type textJSON struct {
	ID       string             `json:"id,omitempty"`
	Raw      string             `json:"raw,omitempty"`
	Fallback string             `json:"fb,omitempty"`
	Args     map[string]argJSON `json:"args,omitempty"`
	ByLang   map[string]string  `json:"lang,omitempty"`
}

// MarshalJSON writes a Text with typed arguments.
func (t Text) MarshalJSON() ([]byte, error) {
	out := textJSON{ID: t.ID, Raw: t.Raw, Fallback: t.Fallback, ByLang: t.ByLang}
	if len(t.Args) > 0 {
		out.Args = make(map[string]argJSON, len(t.Args))
	}
	for k, v := range t.Args {
		var a argJSON
		switch x := v.(type) {
		case UserText:
			s := string(x)
			a.User = &s
		case Text:
			a.Text = &x
		case Window:
			a.Window = &x
		case string:
			a.Str = &x
		case Sealed:
			a.Sealed = &x
		case int:
			a.Num = json.Number(fmt.Sprint(x))
		case int64:
			a.Num = json.Number(fmt.Sprint(x))
		default:
			return nil, fmt.Errorf("ui: argument %q has unsupported type %T", k, v)
		}
		out.Args[k] = a
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads a Text written by MarshalJSON.
func (t *Text) UnmarshalJSON(b []byte) error {
	var in textJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		return err
	}
	*t = Text{ID: in.ID, Raw: in.Raw, Fallback: in.Fallback, ByLang: in.ByLang}
	if len(in.Args) > 0 {
		t.Args = make(map[string]any, len(in.Args))
	}
	for k, a := range in.Args {
		switch {
		case a.User != nil:
			t.Args[k] = UserText(*a.User)
		case a.Text != nil:
			t.Args[k] = *a.Text
		case a.Window != nil:
			t.Args[k] = *a.Window
		case a.Str != nil:
			t.Args[k] = *a.Str
		case a.Sealed != nil:
			t.Args[k] = *a.Sealed
		case a.Num != "":
			n, err := a.Num.Int64()
			if err != nil {
				return fmt.Errorf("ui: argument %q: %w", k, err)
			}
			t.Args[k] = int(n)
		}
	}
	return nil
}
