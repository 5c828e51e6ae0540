package flows

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
	"strings"
	"sync"

	"github.com/tend-community/tend/catalog"
	"github.com/tend-community/tend/store"
)

// giveCodeWord seals a code word on the accepted claim: the one its fellow helper on the
// same visit already has, or a new one in the requester's language, since the
// requester is the one who asks for it at the door.
func (s *Service) giveCodeWord(ctx context.Context, tx *store.Tx, cc claimCtx, requester store.Member) error {
	accepted, err := acceptedOn(ctx, tx, cc.slot.ID)
	if err != nil {
		return err
	}
	for _, c := range accepted {
		if c.ID == cc.claim.ID {
			continue
		}
		if w, err := tx.CodeWord(c); err != nil || w != "" {
			if err != nil {
				return err
			}
			return tx.SetCodeWord(ctx, cc.claim.ID, w)
		}
	}
	com, _, err := community(ctx, tx, cc.request.CommunityID)
	if err != nil {
		return err
	}
	w, err := s.newCodeWord(catalog.Pick(requester.Locale, com.Locale))
	if err != nil {
		return err
	}
	return tx.SetCodeWord(ctx, cc.claim.ID, w)
}

// codeWords are the lists code words are picked from, by language, and where the
// randomness comes from.
type codeWords struct {
	once   sync.Once
	err    error
	lists  map[string][2][]string
	mu     sync.Mutex
	source io.Reader
}

// SetCodeWordSource replaces where code words get their randomness (crypto/rand by
// default), so a scripted session can be replayed word for word; nil restores it.
func (s *Service) SetCodeWordSource(r io.Reader) {
	s.words.mu.Lock()
	defer s.words.mu.Unlock()
	s.words.source = r
}

// newCodeWord picks two words, one from each of the language's lists.
func (s *Service) newCodeWord(lang string) (string, error) {
	cw := &s.words
	cw.once.Do(func() {
		cat, err := catalog.New()
		if err != nil {
			cw.err = fmt.Errorf("flows: code words: %w", err)
			return
		}
		cw.lists = map[string][2][]string{}
		for _, l := range catalog.Languages {
			cw.lists[l] = [2][]string{
				splitWords(cat.Localize(l, "visit.words.first", nil)), splitWords(cat.Localize(l, "visit.words.second", nil))}
		}
	})
	if cw.err != nil {
		return "", cw.err
	}
	cw.mu.Lock()
	defer cw.mu.Unlock()
	src := cw.source
	if src == nil {
		src = rand.Reader
	}
	lists, ok := cw.lists[lang]
	if !ok {
		lists = cw.lists["en"]
	}
	var words []string
	for _, list := range lists {
		if len(list) == 0 {
			return "", fmt.Errorf("flows: no code words for %s", lang)
		}
		n, err := rand.Int(src, big.NewInt(int64(len(list))))
		if err != nil {
			return "", fmt.Errorf("flows: code word: %w", err)
		}
		words = append(words, list[n.Int64()])
	}
	return strings.Join(words, " "), nil
}

func splitWords(s string) []string {
	var out []string
	for _, w := range strings.Split(s, ",") {
		if w = strings.TrimSpace(w); w != "" {
			out = append(out, w)
		}
	}
	return out
}
