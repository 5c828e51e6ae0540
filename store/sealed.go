package store

import (
	"strconv"
	"strings"
)

// SealedColumn is one column of sealed values: where its rows are, how one row is
// named, and the context its values are sealed with. Key rotation and `tend keys status`
// go through sealedColumns alone, so a new sealed column belongs there (TestSealedRegistry
// fails for a *_key_id column a migration declares and the list lacks).
type SealedColumn struct {
	Table string
	// Key names one row: the table's primary key.
	Key []string
	// Uses are further columns the context is built from (never changed by rotation).
	Uses []string
	// CT holds the sealed value, KeyID the id of the key that sealed it.
	CT, KeyID string
	// Context is the sealing context of a row, exactly as the code that seals it builds it.
	Context func(r SealedRow) string
}

// SealedRow is a row's Key and Uses columns, as text.
type SealedRow map[string]string

// Int reads a column as a number (ids); 0 if it is not one.
func (r SealedRow) Int(col string) int64 {
	n, _ := strconv.ParseInt(r[col], 10, 64)
	return n
}

// Name is how people see the column: table.field.
func (c SealedColumn) Name() string { return c.Table + "." + strings.TrimSuffix(c.CT, "_ct") }

// byID builds the context from a numeric column of the row.
func byID(col string, f func(int64) string) func(SealedRow) string {
	return func(r SealedRow) string { return f(r.Int(col)) }
}

var idKey = []string{"id"}

// sealedColumns lists every sealed column. The context functions are the ones next to
// each column's sealing code; re-encryption must bind each value to the same place.
var sealedColumns = []SealedColumn{
	{Table: "requests", Key: idKey, CT: "private_ct", KeyID: "private_key_id", Context: byID("id", requestContext)},
	{Table: "claims", Key: idKey, CT: "private_ct", KeyID: "private_key_id", Context: byID("id", claimContext)},
	{Table: "claims", Key: idKey, CT: "code_ct", KeyID: "code_key_id", Context: byID("id", codeWordContext)},
	{Table: "dialogues", Key: []string{"platform", "workspace", "user_id"}, CT: "answers_ct", KeyID: "answers_key_id",
		Context: func(r SealedRow) string { return dialogueContext(r["platform"], r["workspace"], r["user_id"]) }},
	{Table: "escalations", Key: idKey, CT: "held_ct", KeyID: "held_key_id", Context: byID("id", heldContext)},
	{Table: "escalation_events", Key: idKey, Uses: []string{"escalation_id"}, CT: "note_ct", KeyID: "note_key_id",
		Context: byID("escalation_id", noteContext)},
	{Table: "partners", Key: idKey, CT: "webhook_secret_ct", KeyID: "webhook_secret_key_id", Context: byID("id", secretContext)},
	{Table: "referrals", Key: idKey, Uses: []string{"escalation_id"}, CT: "reason_ct", KeyID: "reason_key_id",
		Context: byID("escalation_id", reasonContext)},
	{Table: "members", Key: idKey, CT: "person_ct", KeyID: "person_key_id", Context: byID("id", personContext)},
	{Table: "link_codes", Key: idKey, CT: "code_ct", KeyID: "code_key_id", Context: byID("id", linkCodeContext)},
	{Table: "privacy_incidents", Key: idKey, CT: "details_ct", KeyID: "details_key_id", Context: byID("id", incidentContext)},
}

// SealedColumns lists every sealed column, in a fixed order.
func SealedColumns() []SealedColumn { return append([]SealedColumn(nil), sealedColumns...) }
