package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/tend-community/tend/store"
)

// SeedHistory writes a known history of requests, claims, offers and follow-ups into a
// community (whose zone is America/Toronto) for the impact figures, across October and
// November 2026 and two categories:
//
//   - October, ride: 6 requests by r1..r6; r1..r5's are done by v1..v5, claimed 1 to 5
//     hours after they were asked; r6's was cancelled after v1 offered at 10 hours and
//     withdrew. October, meal: 2 open requests, no claim; 5 meal offers.
//   - November, ride: 6 requests by v1..v6, each first claimed 2 hours later: 5 done by
//     r1..r5 (all helped in October), the sixth accepted by r1. 5 follow-ups sent.
//
// It returns the members by name.
func SeedHistory(t testing.TB, db *store.DB, community int64) map[string]int64 {
	t.Helper()
	loc, err := time.LoadLocation("America/Toronto")
	if err != nil {
		t.Fatal(err)
	}
	at := func(month time.Month, day, hour int) int64 {
		return time.Date(2026, month, day, hour, 0, 0, 0, loc).Unix()
	}
	exec := func(q string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := db.X.Get(&id, db.X.Rebind(q+" RETURNING id"), args...); err != nil {
			t.Fatalf("seed: %s: %v", q, err)
		}
		return id
	}
	members := map[string]int64{}
	for _, n := range []string{"r1", "r2", "r3", "r4", "r5", "r6", "v1", "v2", "v3", "v4", "v5", "v6"} {
		members[n] = exec(`INSERT INTO members (community_id, display_name, notice_version, accepted_at, created_at) VALUES (?, ?, ?, ?, ?)`,
			community, n, "2026-11", at(9, 1, 9), at(9, 1, 9))
	}
	request := func(by, cat, status string, created int64) int64 {
		id := exec(`INSERT INTO requests (community_id, requester_id, category, summary, area, starts_at, ends_at, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, community, members[by], cat, "help", "Rosemont", created+86400, created+90000, status, created, created)
		exec(`INSERT INTO slots (request_id, starts_at, ends_at, capacity, taken) VALUES (?, ?, ?, 1, 0)`, id, created+86400, created+90000)
		return id
	}
	claim := func(req int64, by, state string, created, updated int64) {
		var slot int64
		if err := db.X.Get(&slot, db.X.Rebind(`SELECT id FROM slots WHERE request_id = ?`), req); err != nil {
			t.Fatal(err)
		}
		exec(`INSERT INTO claims (slot_id, member_id, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`, slot, members[by], state, created, updated)
	}
	for i := 1; i <= 6; i++ {
		created := at(10, 5+i, 9)
		if i <= 5 {
			id := request(fmt.Sprintf("r%d", i), "ride", "done", created)
			claim(id, fmt.Sprintf("v%d", i), "done", created+int64(i)*3600, at(10, 20, 12))
		} else {
			id := request("r6", "ride", "cancelled", created)
			claim(id, "v1", "withdrawn", created+10*3600, created+11*3600)
		}
	}
	for i := 1; i <= 2; i++ {
		request("r6", "meal", "open", at(10, 15+i, 9))
	}
	for i := 1; i <= 5; i++ {
		exec(`INSERT INTO offers (community_id, volunteer_id, category, summary, area, starts_at, ends_at, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, community, members["v1"], "meal", "soup", "Rosemont", at(10, 25, 9), at(10, 25, 12), "open", at(10, 10+i, 9), at(10, 10+i, 9))
	}
	for i := 1; i <= 6; i++ {
		created := at(11, 2+i, 9)
		if i <= 5 {
			id := request(fmt.Sprintf("v%d", i), "ride", "done", created)
			claim(id, fmt.Sprintf("r%d", i), "done", created+2*3600, at(11, 15, 12))
			exec(`INSERT INTO audit_log (community_id, action, subject, detail, created_at) VALUES (?, ?, ?, ?, ?)`,
				community, "request.followed_up", fmt.Sprintf("request:%d", id), "basis=consent", at(11, 16, 12))
		} else {
			id := request("v6", "ride", "matched", created)
			claim(id, "r1", "accepted", created+2*3600, created+2*3600)
		}
	}
	return members
}
