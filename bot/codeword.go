package bot

import (
	"context"

	"github.com/tend-community/tend/bot/ui"
	"github.com/tend-community/tend/store"
)

// codeWord decrypts a visit's code word for its reader, now: the outbox row and the
// stored reply hold only the claim id. Only the claim's helper and its requester may see
// it; a claim that ended shows none.
func (a *App) codeWord(ctx context.Context, viewer int64, lang string, claim int64) ([]RenderedField, error) {
	var fields []RenderedField
	err := a.inEvent(ctx, func(tx *store.Tx) error {
		w, err := tx.CodeWordFor(ctx, claim, viewer)
		if err != nil || w == "" {
			return err
		}
		fields = []RenderedField{{Label: a.localize(lang, ui.T("visit.field.code_word")), Value: Sanitize(w)}}
		return nil
	})
	return fields, err
}
