package flows

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Errors of when-parsing; the ask and offer flows turn them into field messages.
var (
	errWhenFormat = errors.New("unrecognised date or time")
	errWhenPast   = errors.New("in the past")
	errWhenFar    = errors.New("too far ahead")
	errUntil      = errors.New("end before start")
)

// DefaultDuration is the window length when no end is given.
const DefaultDuration = 2 * time.Hour

// DefaultHour is the start hour when only a day is given.
const DefaultHour = 9

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "sun": time.Sunday, "dimanche": time.Sunday, "dim": time.Sunday,
	"monday": time.Monday, "mon": time.Monday, "lundi": time.Monday, "lun": time.Monday,
	"tuesday": time.Tuesday, "tue": time.Tuesday, "tues": time.Tuesday, "mardi": time.Tuesday, "mar": time.Tuesday,
	"wednesday": time.Wednesday, "wed": time.Wednesday, "mercredi": time.Wednesday, "mer": time.Wednesday,
	"thursday": time.Thursday, "thu": time.Thursday, "thur": time.Thursday, "thurs": time.Thursday, "jeudi": time.Thursday, "jeu": time.Thursday,
	"friday": time.Friday, "fri": time.Friday, "vendredi": time.Friday, "ven": time.Friday,
	"saturday": time.Saturday, "sat": time.Saturday, "samedi": time.Saturday, "sam": time.Saturday,
}

// DayKey is the short English key of a weekday, as volunteer availability stores it.
func DayKey(d time.Weekday) string {
	return [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}[d]
}

// ParseDay reads a weekday name in English or French.
func ParseDay(s string) (time.Weekday, bool) {
	d, ok := weekdays[fold(s)]
	return d, ok
}

var (
	isoDate   = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})$`)
	dayMonth  = regexp.MustCompile(`^(\d{1,2})/(\d{1,2})(?:/(\d{4}))?$`)
	clockForm = regexp.MustCompile(`^(\d{1,2})(?:[:h](\d{2})?)?\s*(am|pm)?$`)
)

// fold lower-cases and strips accents so "Mercredi", "mercredi" and "MERCREDI" match.
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, strings.ToLower(strings.TrimSpace(s)))
	if err != nil {
		return strings.ToLower(strings.TrimSpace(s))
	}
	return strings.TrimRight(out, ".,")
}

// ParseWhen reads a start time as people write it: "2026-11-26 14:00", "thursday 14:00",
// "jeudi 14h", "tomorrow 9am", "demain", "26/11 10:30". It is read in the community's
// time zone. A day without a time starts at 9:00. A weekday means the next one still to
// come (today if its time has not passed).
func ParseWhen(in string, now time.Time, loc *time.Location) (time.Time, error) {
	words := strings.Fields(fold(in))
	if len(words) == 1 {
		if d, c, ok := strings.Cut(words[0], "t"); ok && isoDate.MatchString(d) {
			words = []string{d, c}
		}
	}
	if len(words) == 0 || len(words) > 3 {
		return time.Time{}, errWhenFormat
	}
	local := now.In(loc)
	day, rest, err := parseDay(words, local, loc)
	if err != nil {
		return time.Time{}, err
	}
	h, m := DefaultHour, 0
	if len(rest) > 0 {
		var ok bool
		h, m, ok = parseClock(strings.Join(rest, ""))
		if !ok {
			return time.Time{}, errWhenFormat
		}
	}
	t := time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, loc)
	if words[0] != "" {
		if wd, ok := weekdays[words[0]]; ok && wd == local.Weekday() && !t.After(local) {
			t = t.AddDate(0, 0, 7)
		}
	}
	return t, nil
}

func parseDay(words []string, local time.Time, loc *time.Location) (time.Time, []string, error) {
	w := words[0]
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	switch w {
	case "today", "aujourd'hui", "aujourdhui", "auj":
		return today, words[1:], nil
	case "tomorrow", "demain":
		return today.AddDate(0, 0, 1), words[1:], nil
	}
	if wd, ok := weekdays[w]; ok {
		diff := (int(wd) - int(local.Weekday()) + 7) % 7
		return today.AddDate(0, 0, diff), words[1:], nil
	}
	if m := isoDate.FindStringSubmatch(w); m != nil {
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		return validDate(y, mo, d, words[1:], loc)
	}
	if m := dayMonth.FindStringSubmatch(w); m != nil {
		d, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		y := local.Year()
		if m[3] != "" {
			y, _ = strconv.Atoi(m[3])
		} else if time.Date(y, time.Month(mo), d, 23, 59, 0, 0, loc).Before(local) {
			y++
		}
		return validDate(y, mo, d, words[1:], loc)
	}
	// A time alone means today.
	if _, _, ok := parseClock(strings.Join(words, "")); ok {
		return today, words, nil
	}
	return time.Time{}, nil, errWhenFormat
}

func validDate(y, mo, d int, rest []string, loc *time.Location) (time.Time, []string, error) {
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, loc)
	if t.Year() != y || int(t.Month()) != mo || t.Day() != d {
		return time.Time{}, nil, errWhenFormat
	}
	return t, rest, nil
}

// parseClock reads "14:00", "14h", "14h30", "9am", "2:30pm", "9".
func parseClock(s string) (int, int, bool) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "at"), "a")
	m := clockForm.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, 0, false
	}
	h, _ := strconv.Atoi(m[1])
	min := 0
	if m[2] != "" {
		min, _ = strconv.Atoi(m[2])
	}
	switch m[3] {
	case "am":
		if h < 1 || h > 12 {
			return 0, 0, false
		}
		if h == 12 {
			h = 0
		}
	case "pm":
		if h < 1 || h > 12 {
			return 0, 0, false
		}
		if h != 12 {
			h += 12
		}
	}
	if h > 23 || min > 59 {
		return 0, 0, false
	}
	return h, min, true
}

// ParseWindow reads a start and an optional end ("16:00" on the same day, or a full date
// and time). It refuses a start in the past, more than a year ahead, or an end not after
// its start.
func ParseWindow(when, until string, now time.Time, loc *time.Location) (time.Time, time.Time, error) {
	start, err := ParseWhen(when, now, loc)
	if err != nil {
		return start, start, err
	}
	if start.Before(now) {
		return start, start, errWhenPast
	}
	if start.After(now.AddDate(1, 0, 0)) {
		return start, start, errWhenFar
	}
	end := start.Add(DefaultDuration)
	if u := strings.TrimSpace(until); u != "" {
		if h, m, ok := parseClock(fold(u)); ok {
			end = time.Date(start.Year(), start.Month(), start.Day(), h, m, 0, 0, loc)
		} else {
			end, err = ParseWhen(u, start, loc)
			if err != nil {
				return start, start, errWhenFormat
			}
		}
		if !end.After(start) {
			return start, end, errUntil
		}
	}
	return start, end, nil
}

// unixIn is a stored time in a community's zone.
func unixIn(ts int64, zone string) time.Time {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	return time.Unix(ts, 0).In(loc)
}
