package flows

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/tend-community/tend/bot/ui"
)

// Answers for yes/no and name/anonymous choices.
const (
	Yes       = "yes"
	No        = "no"
	ShowName  = "name"
	Anonymous = "anonymous"
)

// values reads a submitted form and collects field errors as it goes.
type values struct {
	m    map[string]string
	errs []ui.FieldError
}

func newValues(m map[string]string) *values { return &values{m: m} }

func (v *values) fail(field, id string, kv ...any) {
	for _, e := range v.errs {
		if e.Field == field {
			return
		}
	}
	v.errs = append(v.errs, ui.FieldError{Field: field, Msg: ui.T(id, kv...)})
}

// text returns a trimmed single-line field, checking presence and length.
func (v *values) text(field string, required bool, max int) string {
	s := strings.TrimSpace(v.m[field])
	switch {
	case s == "" && required:
		v.fail(field, "error.required")
	case utf8.RuneCountInString(s) > max:
		v.fail(field, "error.too_long", "Count", max)
	case strings.ContainsAny(s, "\n\r"):
		v.fail(field, "error.one_line")
	}
	return s
}

// long returns a trimmed multi-line field.
func (v *values) long(field string, max int) string {
	s := strings.TrimSpace(v.m[field])
	if utf8.RuneCountInString(s) > max {
		v.fail(field, "error.too_long", "Count", max)
	}
	return s
}

// choice returns a field that must be one of the allowed values, or def when empty.
func (v *values) choice(field, def string, allowed ...string) string {
	s := strings.ToLower(strings.TrimSpace(v.m[field]))
	if s == "" {
		return def
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	v.fail(field, "error.choice")
	return def
}

// whenError turns a when-parsing failure into the message that names the problem.
func (v *values) whenError(whenField, untilField string, err error) {
	switch {
	case errors.Is(err, errWhenPast):
		v.fail(whenField, "error.when_past")
	case errors.Is(err, errWhenFar):
		v.fail(whenField, "error.when_far")
	case errors.Is(err, errUntil):
		v.fail(untilField, "error.until_before")
	default:
		v.fail(whenField, "error.when_format")
	}
}

func yesNo(def string) []ui.Option {
	opts := []ui.Option{{Label: ui.T("option.yes"), Value: Yes}, {Label: ui.T("option.no"), Value: No}}
	if def == No {
		opts[0], opts[1] = opts[1], opts[0]
	}
	return opts
}
