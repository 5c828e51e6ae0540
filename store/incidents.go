package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
)

// Incident is one confidentiality incident in a community's register. Its free text is
// sealed in DetailsCT; IncidentDetails opens it.
type Incident struct {
	ID               int64          `db:"id"`
	CommunityID      int64          `db:"community_id"`
	OccurredFrom     string         `db:"occurred_from"`
	OccurredUntil    string         `db:"occurred_until"`
	OccurredApprox   bool           `db:"occurred_approx"`
	KnownOn          string         `db:"known_on"`
	Affected         sql.NullInt64  `db:"affected"`
	AffectedEstimate bool           `db:"affected_estimate"`
	Risk             string         `db:"risk"`
	NotifiedCAIOn    string         `db:"notified_cai_on"`
	NotifiedPeopleOn string         `db:"notified_people_on"`
	DetailsCT        []byte         `db:"details_ct"`
	DetailsKeyID     sql.NullString `db:"details_key_id"`
	CreatedAt        int64          `db:"created_at"`
	UpdatedAt        int64          `db:"updated_at"`
}

// IncidentDetails is an incident's free text, sealed together.
type IncidentDetails struct {
	// Data is what personal information is concerned ("unknown" when it is not known).
	Data          string `json:"data"`
	Circumstances string `json:"circumstances"`
	// The reasons of the risk assessment.
	Sensitivity  string `json:"sensitivity"`
	Consequences string `json:"consequences"`
	Likelihood   string `json:"likelihood"`
	Measures     string `json:"measures"`
}

func incidentContext(id int64) string {
	return "privacy_incidents.details:" + strconv.FormatInt(id, 10)
}

// SaveIncident adds an incident (ID 0) or replaces one of the community's, with its
// details sealed; it returns the incident's id.
func (tx *Tx) SaveIncident(ctx context.Context, in Incident, d IncidentDetails) (int64, error) {
	now := tx.Now()
	id := in.ID
	if id == 0 {
		var err error
		id, err = tx.insert(ctx, `INSERT INTO privacy_incidents (community_id, occurred_from, occurred_until, occurred_approx, known_on,
			affected, affected_estimate, risk, notified_cai_on, notified_people_on, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			in.CommunityID, in.OccurredFrom, in.OccurredUntil, in.OccurredApprox, in.KnownOn, in.Affected, in.AffectedEstimate, in.Risk,
			in.NotifiedCAIOn, in.NotifiedPeopleOn, now, now)
		if err != nil {
			return 0, wrap(err, "add incident")
		}
	} else {
		n, err := tx.exec(ctx, `UPDATE privacy_incidents SET occurred_from = ?, occurred_until = ?, occurred_approx = ?, known_on = ?, affected = ?,
			affected_estimate = ?, risk = ?, notified_cai_on = ?, notified_people_on = ?, updated_at = ? WHERE id = ? AND community_id = ?`,
			in.OccurredFrom, in.OccurredUntil, in.OccurredApprox, in.KnownOn, in.Affected, in.AffectedEstimate, in.Risk,
			in.NotifiedCAIOn, in.NotifiedPeopleOn, now, id, in.CommunityID)
		if err != nil {
			return 0, wrap(err, "update incident")
		}
		if n == 0 {
			return 0, fmt.Errorf("store: incident %d: %w", id, ErrNotFound)
		}
	}
	plain, err := json.Marshal(d)
	if err != nil {
		return 0, fmt.Errorf("store: incident details: %w", err)
	}
	ct, kid, err := tx.db.Keys.Seal(plain, incidentContext(id))
	if err != nil {
		return 0, fmt.Errorf("store: seal incident details: %w", err)
	}
	if _, err := tx.exec(ctx, `UPDATE privacy_incidents SET details_ct = ?, details_key_id = ? WHERE id = ?`, ct, kid, id); err != nil {
		return 0, wrap(err, "save incident")
	}
	return id, nil
}

// Incident loads one of a community's incidents.
func (tx *Tx) Incident(ctx context.Context, community, id int64) (Incident, error) {
	var in Incident
	err := tx.get(ctx, &in, `SELECT * FROM privacy_incidents WHERE id = ? AND community_id = ?`, id, community)
	return in, wrap(err, "incident")
}

// Incidents lists a community's incidents, newest first, at most limit (all when 0).
func (tx *Tx) Incidents(ctx context.Context, community int64, limit int) ([]Incident, error) {
	q := `SELECT * FROM privacy_incidents WHERE community_id = ? ORDER BY id DESC`
	args := []any{community}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	var ins []Incident
	err := tx.sel(ctx, &ins, q, args...)
	return ins, wrap(err, "incidents")
}

// IncidentDetails opens an incident's free text.
func (tx *Tx) IncidentDetails(in Incident) (IncidentDetails, error) {
	var d IncidentDetails
	if len(in.DetailsCT) == 0 || !in.DetailsKeyID.Valid {
		return d, nil
	}
	plain, err := tx.db.Keys.Open(in.DetailsCT, in.DetailsKeyID.String, incidentContext(in.ID))
	if err != nil {
		return d, fmt.Errorf("store: open incident details: %w", err)
	}
	if err := json.Unmarshal(plain, &d); err != nil {
		return d, fmt.Errorf("store: incident details: %w", err)
	}
	return d, nil
}
