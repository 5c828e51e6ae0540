package discordtest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// formErrors collects Invalid Form Body errors in Discord's nested shape:
// {"components":{"0":{"custom_id":{"_errors":[{"code":..,"message":..}]}}}}.
type formErrors struct {
	tree map[string]any
	list []string
}

func (f *formErrors) add(path, code, msg string) {
	if f.tree == nil {
		f.tree = map[string]any{}
	}
	cur := f.tree
	for _, p := range strings.Split(path, ".") {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	errs, _ := cur["_errors"].([]any)
	cur["_errors"] = append(errs, map[string]any{"code": code, "message": msg})
	f.list = append(f.list, path+": "+msg)
}

// err is the 400 Invalid Form Body answer, or nil when nothing was wrong.
func (f *formErrors) err() *apiError {
	if len(f.list) == 0 {
		return nil
	}
	return &apiError{status: 400, code: 50035, message: "Invalid Form Body", errors: f.tree, detail: f.String()}
}

func (f *formErrors) String() string { return strings.Join(f.list, "; ") }

// str checks an optional (or required) string's length in characters.
func (f *formErrors) str(path string, v any, min, max int, required bool) string {
	if v == nil {
		if required {
			f.add(path, "BASE_TYPE_REQUIRED", "This field is required")
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		f.add(path, "BASE_TYPE_STRING", fmt.Sprintf("Could not interpret %q as string.", fmt.Sprint(v)))
		return ""
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n <= max && n >= min:
	case min == 0:
		f.add(path, "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", max))
	default:
		f.add(path, "BASE_TYPE_BAD_LENGTH", fmt.Sprintf("Must be between %d and %d in length.", min, max))
	}
	return s
}

// intIn checks an optional integer's range.
func (f *formErrors) intIn(path string, v any, min, max int64) {
	if v == nil {
		return
	}
	n, ok := num(v)
	if !ok || n < min || n > max {
		f.add(path, "NUMBER_TYPE_MAX", fmt.Sprintf("int value should be between %d and %d.", min, max))
	}
}

func (f *formErrors) count(path string, n, min, max int) {
	if n < min || n > max {
		f.add(path, "BASE_TYPE_BAD_LENGTH", fmt.Sprintf("Must be between %d and %d in length.", min, max))
	}
}

const flagComponentsV2 = 1 << 15

// validateMessage checks a message create/edit body (channel messages,
// interaction responses, follow-ups). create also rejects empty messages.
func validateMessage(b map[string]any, create bool) *apiError {
	var f formErrors
	content := f.str("content", b["content"], 0, 2000, false)
	if v, ok := b["embeds"]; ok && v != nil {
		embeds, isArr := v.([]any)
		if !isArr {
			f.add("embeds", "BASE_TYPE_ARRAY", "Must be an array.")
		}
		if len(embeds) > 10 {
			f.add("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
		}
		total := 0
		for i, e := range embeds {
			total += validateEmbed(&f, "embeds."+strconv.Itoa(i), objOf(e))
		}
		if total > 6000 {
			f.add("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
		}
	}
	flags, _ := num(b["flags"])
	validateComponents(&f, "components", b["components"], flags&flagComponentsV2 != 0)
	if n, isStr := b["nonce"].(string); isStr {
		f.str("nonce", n, 0, 25, false)
	}
	if am := objOf(b["allowed_mentions"]); am != nil {
		for i, p := range arrOf(am["parse"]) {
			if p != "users" && p != "roles" && p != "everyone" {
				f.add("allowed_mentions.parse."+strconv.Itoa(i), "ENUM_TYPE_COERCE", fmt.Sprintf("Value %q is not a valid enum value.", fmt.Sprint(p)))
			}
		}
		for _, k := range []string{"users", "roles"} {
			if len(arrOf(am[k])) > 100 {
				f.add("allowed_mentions."+k, "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
			}
		}
	}
	if e := f.err(); e != nil {
		return e
	}
	if create && content == "" && len(arrOf(b["embeds"])) == 0 && len(arrOf(b["components"])) == 0 &&
		len(arrOf(b["sticker_ids"])) == 0 && len(arrOf(b["attachments"])) == 0 && b["poll"] == nil {
		return &apiError{status: 400, code: 50006, message: "Cannot send an empty message"}
	}
	return nil
}

func validateEmbed(f *formErrors, path string, e map[string]any) int {
	if e == nil {
		f.add(path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
		return 0
	}
	n := len(f.str(path+".title", e["title"], 0, 256, false))
	n += len(f.str(path+".description", e["description"], 0, 4096, false))
	if ft := objOf(e["footer"]); ft != nil {
		n += len(f.str(path+".footer.text", ft["text"], 1, 2048, true))
	}
	if au := objOf(e["author"]); au != nil {
		n += len(f.str(path+".author.name", au["name"], 1, 256, true))
	}
	fields := arrOf(e["fields"])
	if len(fields) > 25 {
		f.add(path+".fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
	}
	for i, fl := range fields {
		fm, p := objOf(fl), path+".fields."+strconv.Itoa(i)
		n += len(f.str(p+".name", fm["name"], 1, 256, true))
		n += len(f.str(p+".value", fm["value"], 1, 1024, true))
	}
	return n
}

func isSelect(t int64) bool { return t == 3 || (t >= 5 && t <= 8) }

// validateComponents checks message components: at most 5 action rows of
// either up to 5 buttons or one select, custom ids of 1 to 100 characters,
// unique within the message.
func validateComponents(f *formErrors, path string, v any, v2 bool) {
	if v == nil {
		return
	}
	rows, isArr := v.([]any)
	if !isArr {
		f.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
		return
	}
	ids := map[string]bool{}
	if v2 {
		walkComponentPaths(rows, path, func(c map[string]any, p string) {
			if t, _ := num(c["type"]); t == 2 || isSelect(t) {
				validateComponent(f, p, c, ids)
			}
		})
		return
	}
	if len(rows) > 5 {
		f.add(path, "BASE_TYPE_BAD_LENGTH", "Must be between 0 and 5 in length.")
	}
	for i, r := range rows {
		rp := path + "." + strconv.Itoa(i)
		row := objOf(r)
		if t, _ := num(row["type"]); t != 1 {
			f.add(rp+".type", "UNION_TYPE_CHOICES", `Value of field "type" must be one of (1,).`)
			continue
		}
		children := arrOf(row["components"])
		f.count(rp+".components", len(children), 1, 5)
		selects := 0
		for j, c := range children {
			cm := objOf(c)
			t, _ := num(cm["type"])
			cp := rp + ".components." + strconv.Itoa(j)
			switch {
			case t == 2:
				validateComponent(f, cp, cm, ids)
			case isSelect(t):
				selects++
				validateComponent(f, cp, cm, ids)
			default:
				f.add(cp+".type", "UNION_TYPE_CHOICES", `Value of field "type" must be one of (2, 3, 5, 6, 7, 8).`)
			}
		}
		if selects > 0 && len(children) > 1 {
			f.add(rp+".components", "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "The specified component exceeds the maximum width")
		}
	}
}

func walkComponentPaths(list []any, path string, fn func(map[string]any, string)) {
	for i, c := range list {
		cm, p := objOf(c), path+"."+strconv.Itoa(i)
		if cm == nil {
			continue
		}
		fn(cm, p)
		walkComponentPaths(arrOf(cm["components"]), p+".components", fn)
		if acc := objOf(cm["accessory"]); acc != nil {
			walkComponentPaths([]any{acc}, p+".accessory", fn)
		}
	}
}

func validateComponent(f *formErrors, p string, c map[string]any, ids map[string]bool) {
	t, _ := num(c["type"])
	customID := ""
	if t == 2 {
		style, _ := num(c["style"])
		switch {
		case style < 1 || style > 6:
			f.add(p+".style", "ENUM_TYPE_COERCE", fmt.Sprintf("Value %q is not a valid enum value.", fmt.Sprint(c["style"])))
		case style == 5:
			f.str(p+".url", c["url"], 1, 512, true)
			if c["custom_id"] != nil {
				f.add(p+".custom_id", "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED", "A custom id cannot be specified for this button style")
			}
		case style != 6:
			customID = f.str(p+".custom_id", c["custom_id"], 1, 100, true)
			if c["url"] != nil {
				f.add(p+".url", "BUTTON_COMPONENT_URL_NOT_ALLOWED", "A url cannot be specified for this button style")
			}
		}
		label := f.str(p+".label", c["label"], 0, 80, false)
		if label == "" && c["emoji"] == nil && style != 6 {
			f.add(p, "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "Buttons require a label or an emoji")
		}
	} else {
		customID = f.str(p+".custom_id", c["custom_id"], 1, 100, true)
		f.str(p+".placeholder", c["placeholder"], 0, 150, false)
		f.intIn(p+".min_values", c["min_values"], 0, 25)
		f.intIn(p+".max_values", c["max_values"], 1, 25)
		if t == 3 {
			opts := arrOf(c["options"])
			f.count(p+".options", len(opts), 1, 25)
			values := map[string]bool{}
			for i, o := range opts {
				om, op := objOf(o), p+".options."+strconv.Itoa(i)
				f.str(op+".label", om["label"], 1, 100, true)
				v := f.str(op+".value", om["value"], 1, 100, true)
				f.str(op+".description", om["description"], 0, 100, false)
				if values[v] {
					f.add(op+".value", "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED", "Select component option values must be unique")
				}
				values[v] = true
			}
		}
	}
	if customID != "" {
		if ids[customID] {
			f.add(p+".custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated")
		}
		ids[customID] = true
	}
}

// validateModal checks an interaction response of type 9 and decodes it.
func validateModal(d map[string]any) (Modal, *apiError) {
	var f formErrors
	m := Modal{
		CustomID: f.str("data.custom_id", d["custom_id"], 1, 100, true),
		Title:    f.str("data.title", d["title"], 1, 45, true),
	}
	rows := arrOf(d["components"])
	f.count("data.components", len(rows), 1, 5)
	ids := map[string]bool{}
	for i, r := range rows {
		rp := "data.components." + strconv.Itoa(i)
		row := objOf(r)
		var input map[string]any
		label := ""
		ip := ""
		switch t, _ := num(row["type"]); t {
		case 1:
			children := arrOf(row["components"])
			f.count(rp+".components", len(children), 1, 1)
			if len(children) > 0 {
				input, ip = objOf(children[0]), rp+".components.0"
			}
		case 18: // label wrapping one component
			label = f.str(rp+".label", row["label"], 1, 45, true)
			input, ip = objOf(row["component"]), rp+".component"
		default:
			f.add(rp+".type", "UNION_TYPE_CHOICES", `Value of field "type" must be one of (1, 18).`)
		}
		if input == nil {
			continue
		}
		if t, _ := num(input["type"]); t != 4 {
			f.add(ip+".type", "UNION_TYPE_CHOICES", `Value of field "type" must be one of (4,).`)
			continue
		}
		fld := ModalField{Required: true}
		fld.CustomID = f.str(ip+".custom_id", input["custom_id"], 1, 100, true)
		if ids[fld.CustomID] {
			f.add(ip+".custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated")
		}
		ids[fld.CustomID] = true
		style, _ := num(input["style"])
		if style != 1 && style != 2 {
			f.add(ip+".style", "ENUM_TYPE_COERCE", fmt.Sprintf("Value %q is not a valid enum value.", fmt.Sprint(input["style"])))
		}
		fld.Style = int(style)
		if label != "" {
			fld.Label = label
			f.str(ip+".label", input["label"], 0, 0, false)
		} else {
			fld.Label = f.str(ip+".label", input["label"], 1, 45, true)
		}
		fld.Placeholder = f.str(ip+".placeholder", input["placeholder"], 0, 100, false)
		fld.Value = f.str(ip+".value", input["value"], 0, 4000, false)
		f.intIn(ip+".min_length", input["min_length"], 0, 4000)
		f.intIn(ip+".max_length", input["max_length"], 1, 4000)
		if n, ok := num(input["min_length"]); ok {
			fld.MinLength = int(n)
		}
		if n, ok := num(input["max_length"]); ok {
			fld.MaxLength = int(n)
		}
		if r, ok := input["required"].(bool); ok {
			fld.Required = r
		}
		m.Fields = append(m.Fields, fld)
	}
	return m, f.err()
}

var commandName = regexp.MustCompile(`^[-_'\p{L}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`)

// validateCommands checks a bulk overwrite of application commands.
func validateCommands(list []any) *apiError {
	var f formErrors
	if len(list) > 100 {
		f.add("_root", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
	}
	names := map[string]bool{}
	for i, c := range list {
		cm, p := objOf(c), strconv.Itoa(i)
		if cm == nil {
			f.add(p, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
			continue
		}
		t := int64(1)
		if n, ok := num(cm["type"]); ok {
			t = n
		}
		name := f.str(p+".name", cm["name"], 1, 32, true)
		if t == 1 {
			checkOptionName(&f, p+".name", name)
			f.str(p+".description", cm["description"], 1, 100, true)
		}
		key := strconv.FormatInt(t, 10) + "/" + name
		if names[key] {
			f.add(p+".name", "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
		}
		names[key] = true
		validateOptions(&f, p+".options", arrOf(cm["options"]))
	}
	return f.err()
}

func checkOptionName(f *formErrors, path, name string) {
	if name != "" && (!commandName.MatchString(name) || strings.ToLower(name) != name) {
		f.add(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
	}
}

func validateOptions(f *formErrors, path string, opts []any) {
	if len(opts) > 25 {
		f.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
	}
	optional := false
	names := map[string]bool{}
	for i, o := range opts {
		om, p := objOf(o), path+"."+strconv.Itoa(i)
		t, _ := num(om["type"])
		if t < 1 || t > 11 {
			f.add(p+".type", "ENUM_TYPE_COERCE", fmt.Sprintf("Value %q is not a valid enum value.", fmt.Sprint(om["type"])))
		}
		name := f.str(p+".name", om["name"], 1, 32, true)
		checkOptionName(f, p+".name", name)
		if names[name] {
			f.add(p+".name", "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS", "Option name "+name+" is already used in these options")
		}
		names[name] = true
		f.str(p+".description", om["description"], 1, 100, true)
		if t == 1 || t == 2 {
			validateOptions(f, p+".options", arrOf(om["options"]))
			continue
		}
		if om["required"] == true && optional {
			f.add(p+".required", "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Required options must be placed before non-required options")
		}
		if om["required"] != true {
			optional = true
		}
		if len(arrOf(om["choices"])) > 25 {
			f.add(p+".choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
		}
	}
}
