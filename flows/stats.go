package flows

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// statsMonths is how many months "/tend stats" shows when no start is given.
const statsMonths = 12

func (s *Service) statsRoutes(r *Routes) {
	for _, name := range []string{"stats", "statistiques", "impact"} {
		r.Commands[name] = s.Stats
	}
	for _, name := range []string{"incidents", "incident"} {
		r.Commands[name] = s.Incidents
	}
}

// Stats is "/tend stats [since YYYY-MM] [until YYYY-MM]" for moderators: the impact
// figures, one card per month and one for the whole period. Each look is audited.
func (s *Service) Stats(ctx context.Context, a Actor, args []string) (Result, error) {
	if !a.IsMember() {
		return s.Notice(ctx, a)
	}
	if !a.Moderator {
		return modOnly(), nil
	}
	var since, until string
	for i := 0; i < len(args); i += 2 {
		val := nthArg(args, i+1)
		if val == "" {
			return reply("stats.usage"), nil
		}
		switch fold(args[i]) {
		case "since", "depuis", "from", "du":
			since = val
		case "until", "jusqua", "jusqu'a", "jusqu'au", "jusquau", "to", "au":
			until = val
		default:
			return reply("stats.usage"), nil
		}
	}
	return s.step(ctx, func(tx *store.Tx) (Result, bool, error) {
		c, loc, err := community(ctx, tx, a.CommunityID)
		if err != nil {
			return Result{}, false, err
		}
		from, to, err := MonthRange(since, until, loc)
		if err != nil {
			return reply("stats.usage"), false, nil
		}
		if since == "" {
			end := time.Unix(tx.Now(), 0).In(loc)
			if to != 0 {
				end = time.Unix(to-1, 0).In(loc)
			}
			start := time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, loc).AddDate(0, 1-statsMonths, 0)
			from = start.Unix()
		}
		im, err := ComputeImpact(ctx, tx, c.ID, loc, from, to)
		if err != nil {
			return Result{}, false, err
		}
		cats, err := categoryNames(ctx, tx, c.ID)
		if err != nil {
			return Result{}, false, err
		}
		head := ui.Card{Title: ui.T("stats.title"), Body: []ui.Text{ui.T("stats.legend", "Min", MinCell), ui.T("stats.follow_ups_note")}}
		res := Result{Outs: []ui.Out{{To: ui.Actor(), Card: head}}}
		if len(im.Rows) == 0 {
			res.add(ui.Out{To: ui.Actor(), Card: ui.Card{Body: []ui.Text{ui.T("stats.none")}}})
		}
		var card ui.Card
		for i, row := range im.Rows {
			if card.Title.Empty() {
				card.Title = MonthText(row.Month)
			}
			card.Body = append(card.Body, ImpactLine(row, cats))
			if row.Category == "" || i == len(im.Rows)-1 {
				res.add(ui.Out{To: ui.Actor(), Card: card})
				card = ui.Card{}
			}
		}
		detail := strings.TrimSpace(AuditBounds(since, until))
		if err := s.audit(ctx, tx, a, "stats.viewed", "community:"+ref(c.ID), detail); err != nil {
			return Result{}, false, err
		}
		return res, true, nil
	})
}

// categoryNames names a community's categories in the reader's language.
func categoryNames(ctx context.Context, tx *store.Tx, community int64) (map[string]ui.Text, error) {
	cs, err := tx.Categories(ctx, community)
	if err != nil {
		return nil, err
	}
	out := map[string]ui.Text{}
	for _, c := range cs {
		out[c.Key] = CategoryText(c.Key, c.LabelEN, c.LabelFR)
	}
	return out, nil
}

// ImpactLine is one row of the figures as moderators read it.
func ImpactLine(r ImpactRow, cats map[string]ui.Text) ui.Text {
	f := ImpactFigures(r)
	return ui.T("stats.line", "Category", CategoryName(r.Category, cats), "Requests", f[0], "Offers", f[1], "Share", f[2],
		"Median", f[3], "Volunteers", f[4], "Repeat", f[5], "FollowUps", f[6], "Reciprocity", f[7])
}

// CategoryName names a row's category; "" is every category.
func CategoryName(key string, cats map[string]ui.Text) ui.Text {
	if key == "" {
		return ui.T("stats.all_categories")
	}
	if t, ok := cats[key]; ok {
		return t
	}
	return CategoryLabel(key)
}

// ImpactFigures are a row's figures in the reader's language, suppressed as they must
// be: requests, offers, share fulfilled, median to first claim, active volunteers,
// repeat helpers, follow-ups sent, reciprocity.
func ImpactFigures(r ImpactRow) []ui.Text {
	share := ui.T("stats.hidden")
	if v, ok := r.Share(); ok {
		share = ui.T("stats.percent", "Value", Decimal(v))
	}
	median := ui.T("stats.hidden")
	if v, ok := r.MedianHours(); ok {
		median = ui.T("stats.hours", "Value", Decimal(v))
	}
	return []ui.Text{statCount(r.Requests), statCount(r.Offers), share, median, statCount(r.Volunteers),
		statCount(r.RepeatHelpers), statCount(r.FollowUps), statCount(r.Reciprocity)}
}

func statCount(n int) ui.Text {
	if _, ok := Count(n); !ok {
		return ui.T("stats.small", "Min", MinCell)
	}
	return ui.T("value.any", "Value", n)
}

// Decimal is a number to a tenth, written the reader's way (2.5, or 2,5 in French).
func Decimal(v float64) ui.Text {
	tenths := int64(math.Round(v * 10))
	return ui.T("stats.decimal", "Int", strconv.FormatInt(tenths/10, 10), "Frac", strconv.FormatInt(tenths%10, 10))
}

// MonthText names a month ("2026-11") in the reader's language; "" is the whole period.
func MonthText(m string) ui.Text {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return ui.T("stats.period")
	}
	return ui.T("stats.month", "Month", ui.T("time.month."+strconv.Itoa(int(t.Month()))), "Year", strconv.Itoa(t.Year()))
}
