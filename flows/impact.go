package flows

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/tend-community/tend/store"
)

// The community's impact figures, anonymous: per category and month (in the community's
// time zone), how many asked and offered, how much was fulfilled and how fast, and who
// helped. Any count under MinCell is shown as "<5", and a figure derived from such a
// count is withheld, so no one can be singled out. Chat (/tend stats) and the command
// line (tend stats) read the same Impact.

// MinCell is the smallest count shown as it is.
const MinCell = 5

// ImpactRow is the figures of one category in one month. Month "" is the whole period;
// Category "" is every category together.
type ImpactRow struct {
	Month    string
	Category string
	Requests int
	Offers   int
	// Done and Closed are the requests of the month that were done, and that were closed
	// at all (done, cancelled or expired): the share fulfilled is Done/Closed.
	Done, Closed int
	// FirstClaim is, for each request of the month that was claimed, the seconds from
	// the request to its first claim.
	FirstClaim []int64
	// Volunteers are the distinct members with a live or done claim made in the month;
	// RepeatHelpers those of them with two or more.
	Volunteers, RepeatHelpers int
	// FollowUps counts the follow-ups sent ("how did it go"); the answers are not stored.
	FollowUps int
	// Reciprocity counts the members who had been helped (a done claim on their request)
	// and then helped someone (a done claim of their own, marked done in the month).
	Reciprocity int
}

// Impact is the figures of a period: the months in order, and the rows (each month's
// categories then its total, then the whole period's categories then its total).
type Impact struct {
	Months []string
	Rows   []ImpactRow
}

// Count is a count as it may be shown: ok false means "<5".
func Count(n int) (int, bool) { return n, n >= MinCell }

// Share is the share fulfilled, in percent; ok false when it is withheld because the
// requests done or closed are under MinCell.
func (r ImpactRow) Share() (float64, bool) {
	if r.Done < MinCell || r.Closed < MinCell {
		return 0, false
	}
	return math.Round(1000*float64(r.Done)/float64(r.Closed)) / 10, true
}

// MedianHours is the median time to first claim in hours, to a tenth; ok false when
// fewer than MinCell requests were claimed.
func (r ImpactRow) MedianHours() (float64, bool) {
	n := len(r.FirstClaim)
	if n < MinCell {
		return 0, false
	}
	s := append([]int64(nil), r.FirstClaim...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	med := float64(s[n/2])
	if n%2 == 0 {
		med = float64(s[n/2-1]+s[n/2]) / 2
	}
	return math.Round(med/360) / 10, true
}

// MonthRange turns since and until months (YYYY-MM, either may be empty) into Unix
// bounds in a time zone: from the start of since to the end of until (to is exclusive;
// 0 means open).
func MonthRange(since, until string, loc *time.Location) (from, to int64, err error) {
	if since != "" {
		t, err := time.ParseInLocation("2006-01", since, loc)
		if err != nil {
			return 0, 0, fmt.Errorf("flows: since %q: %w", since, err)
		}
		from = t.Unix()
	}
	if until != "" {
		t, err := time.ParseInLocation("2006-01", until, loc)
		if err != nil {
			return 0, 0, fmt.Errorf("flows: until %q: %w", until, err)
		}
		to = t.AddDate(0, 1, 0).Unix()
	}
	if from != 0 && to != 0 && to <= from {
		return 0, 0, fmt.Errorf("flows: until %s is before since %s", until, since)
	}
	return from, to, nil
}

// impactCell accumulates one row while the rows are read.
type impactCell struct {
	row     ImpactRow
	claims  map[int64]int
	reciprs map[int64]bool
}

// ComputeImpact reads a community's rows and computes its figures for [from, to) (0
// for an open end), months in loc.
func ComputeImpact(ctx context.Context, tx *store.Tx, community int64, loc *time.Location, from, to int64) (Impact, error) {
	rows, err := tx.ImpactRows(ctx, community)
	if err != nil {
		return Impact{}, err
	}
	return impactOf(rows, loc, from, to), nil
}

func impactOf(rows store.StatRows, loc *time.Location, from, to int64) Impact {
	in := func(t int64) bool { return t >= from && (to == 0 || t < to) }
	month := func(t int64) string { return time.Unix(t, 0).In(loc).Format("2006-01") }
	cells := map[[2]string]*impactCell{}
	months, cats := map[string]bool{}, map[string]bool{}
	// each calls f on the cell of (m, c) and on its totals.
	each := func(m, c string, f func(*impactCell)) {
		months[m], cats[c] = true, true
		for _, k := range [][2]string{{m, c}, {m, ""}, {"", c}, {"", ""}} {
			cell := cells[k]
			if cell == nil {
				cell = &impactCell{row: ImpactRow{Month: k[0], Category: k[1]}, claims: map[int64]int{}, reciprs: map[int64]bool{}}
				cells[k] = cell
			}
			f(cell)
		}
	}
	requests := map[int64]store.StatRequest{}
	for _, r := range rows.Requests {
		requests[r.ID] = r
		if !in(r.CreatedAt) {
			continue
		}
		each(month(r.CreatedAt), r.Category, func(c *impactCell) {
			c.row.Requests++
			switch r.Status {
			case "done":
				c.row.Done++
				c.row.Closed++
			case "cancelled", "expired":
				c.row.Closed++
			}
		})
	}
	for _, o := range rows.Offers {
		if in(o.CreatedAt) {
			each(month(o.CreatedAt), o.Category, func(c *impactCell) { c.row.Offers++ })
		}
	}
	// When each member was first helped: the earliest done claim on their requests.
	helped := map[int64]int64{}
	for _, cl := range rows.Claims {
		if cl.State == "done" {
			if t, ok := helped[cl.RequesterID]; !ok || cl.UpdatedAt < t {
				helped[cl.RequesterID] = cl.UpdatedAt
			}
		}
	}
	first := map[int64]bool{}
	for _, cl := range rows.Claims {
		r := requests[cl.RequestID]
		// Claims come oldest first: the first seen is the request's first claim.
		if !first[cl.RequestID] {
			first[cl.RequestID] = true
			if in(r.CreatedAt) {
				wait := max(cl.CreatedAt-r.CreatedAt, 0)
				each(month(r.CreatedAt), r.Category, func(c *impactCell) { c.row.FirstClaim = append(c.row.FirstClaim, wait) })
			}
		}
		live := cl.State == "offered" || cl.State == "accepted" || cl.State == "done"
		if live && in(cl.CreatedAt) {
			each(month(cl.CreatedAt), cl.Category, func(c *impactCell) { c.claims[cl.MemberID]++ })
		}
		if t, ok := helped[cl.MemberID]; ok && cl.State == "done" && t < cl.UpdatedAt && in(cl.UpdatedAt) {
			each(month(cl.UpdatedAt), cl.Category, func(c *impactCell) { c.reciprs[cl.MemberID] = true })
		}
	}
	for _, f := range rows.FollowUps {
		r, ok := requests[f.RequestID]
		if ok && in(f.CreatedAt) {
			each(month(f.CreatedAt), r.Category, func(c *impactCell) { c.row.FollowUps++ })
		}
	}
	out := Impact{}
	for m := range months {
		out.Months = append(out.Months, m)
	}
	sort.Strings(out.Months)
	var catList []string
	for c := range cats {
		catList = append(catList, c)
	}
	sort.Strings(catList)
	for _, m := range append(append([]string{}, out.Months...), "") {
		for _, c := range append(append([]string{}, catList...), "") {
			cell := cells[[2]string{m, c}]
			if cell == nil {
				continue
			}
			for _, n := range cell.claims {
				cell.row.Volunteers++
				if n >= 2 {
					cell.row.RepeatHelpers++
				}
			}
			cell.row.Reciprocity = len(cell.reciprs)
			out.Rows = append(out.Rows, cell.row)
		}
	}
	return out
}
