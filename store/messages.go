package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Posted is where a card with a key was posted, so it can be edited in place.
type Posted struct {
	Platform  string `db:"platform"`
	Workspace string `db:"workspace"`
	CardKey   string `db:"card_key"`
	ChannelID string `db:"channel_id"`
	MessageID string `db:"message_id"`
	UpdatedAt int64  `db:"updated_at"`
}

// PostedMessage finds a keyed card in a space.
func (db *DB) PostedMessage(ctx context.Context, platform, workspace, key string) (Posted, error) {
	var p Posted
	err := db.X.GetContext(ctx, &p, db.X.Rebind(`SELECT * FROM posted_messages WHERE platform = ? AND workspace = ? AND card_key = ?`),
		platform, workspace, key)
	if err == sql.ErrNoRows {
		return p, ErrNotFound
	}
	return p, wrap(err, "posted message")
}

// RememberPosted records (or moves) where a keyed card lives.
func (db *DB) RememberPosted(ctx context.Context, p Posted) error {
	return db.InTx(ctx, func(tx *Tx) error {
		n, err := tx.exec(ctx, `UPDATE posted_messages SET channel_id = ?, message_id = ?, updated_at = ? WHERE platform = ? AND workspace = ? AND card_key = ?`,
			p.ChannelID, p.MessageID, tx.Now(), p.Platform, p.Workspace, p.CardKey)
		if err == nil && n == 0 {
			_, err = tx.exec(ctx, `INSERT INTO posted_messages (platform, workspace, card_key, channel_id, message_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
				p.Platform, p.Workspace, p.CardKey, p.ChannelID, p.MessageID, tx.Now())
		}
		return wrap(err, "remember posted")
	})
}

// Dialogue is a form being answered step by step in a direct-message conversation.
type Dialogue struct {
	Platform     string         `db:"platform"`
	Workspace    string         `db:"workspace"`
	UserID       string         `db:"user_id"`
	Form         string         `db:"form"`
	Step         int            `db:"step"`
	AnswersCT    []byte         `db:"answers_ct"`
	AnswersKeyID sql.NullString `db:"answers_key_id"`
	UpdatedAt    int64          `db:"updated_at"`
}

func dialogueContext(platform, workspace, user string) string {
	return "dialogues.answers:" + platform + "/" + workspace + "/" + user
}

// Dialogue loads the open dialogue of a platform user, with its answers decrypted.
func (tx *Tx) Dialogue(ctx context.Context, platform, workspace, user string) (Dialogue, []byte, error) {
	var d Dialogue
	if err := tx.get(ctx, &d, `SELECT * FROM dialogues WHERE platform = ? AND workspace = ? AND user_id = ?`, platform, workspace, user); err != nil {
		return d, nil, wrap(err, "dialogue")
	}
	if len(d.AnswersCT) == 0 || !d.AnswersKeyID.Valid {
		return d, nil, nil
	}
	plain, err := tx.db.Keys.Open(d.AnswersCT, d.AnswersKeyID.String, dialogueContext(platform, workspace, user))
	if err != nil {
		return d, nil, fmt.Errorf("store: dialogue answers: %w", err)
	}
	return d, plain, nil
}

// SaveDialogue creates or replaces a user's dialogue, sealing the answers.
func (tx *Tx) SaveDialogue(ctx context.Context, d Dialogue, answers []byte) error {
	ct, kid, err := tx.db.Keys.Seal(answers, dialogueContext(d.Platform, d.Workspace, d.UserID))
	if err != nil {
		return fmt.Errorf("store: seal dialogue: %w", err)
	}
	if _, err := tx.exec(ctx, `DELETE FROM dialogues WHERE platform = ? AND workspace = ? AND user_id = ?`, d.Platform, d.Workspace, d.UserID); err != nil {
		return wrap(err, "replace dialogue")
	}
	_, err = tx.exec(ctx, `INSERT INTO dialogues (platform, workspace, user_id, form, step, answers_ct, answers_key_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Platform, d.Workspace, d.UserID, d.Form, d.Step, ct, kid, tx.Now())
	return wrap(err, "save dialogue")
}

// EndDialogue removes a user's dialogue; it reports whether there was one.
func (tx *Tx) EndDialogue(ctx context.Context, platform, workspace, user string) (bool, error) {
	n, err := tx.exec(ctx, `DELETE FROM dialogues WHERE platform = ? AND workspace = ? AND user_id = ?`, platform, workspace, user)
	return n > 0, wrap(err, "end dialogue")
}

// ForgetPosted drops every remembered card of a platform, so later updates post anew.
func (db *DB) ForgetPosted(ctx context.Context, platform string) error {
	_, err := db.X.ExecContext(ctx, db.X.Rebind(`DELETE FROM posted_messages WHERE platform = ?`), platform)
	return wrap(err, "forget posted")
}
