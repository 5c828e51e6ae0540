package bench

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/tend-community/tend/bot"
	"github.com/tend-community/tend/flows"
)

// Platform is the recording adapter's platform name; the bench binds its own community
// to a workspace of it, so nothing it does reaches a real space.
const Platform = "bench"

// Recorder is the platform in place of Discord, Slack or Mattermost: it accepts every
// delivery at once, counts deliveries per idempotency key (a key seen twice is a
// duplicate), returns message ids so board cards are edited in place, and remembers what
// each person could act on: the buttons the bot sent them in direct messages and the
// claim buttons on the board's cards.
type Recorder struct {
	workspace, board string

	n atomic.Int64

	mu   sync.Mutex
	keys map[string]int
	// mail holds, per platform user, the DM buttons a simulated person may press next.
	mail map[string][]bot.RenderedButton
	// open is the board's cards that carry an "I can help" button: message id -> slot.
	open    map[string]string
	openIDs []string
	openAt  map[string]int
	sent    int
	edits   int
}

// NewRecorder returns a recorder whose board is the channel named board in workspace.
// People act only on what reached them in that workspace.
func NewRecorder(workspace, board string) *Recorder {
	return &Recorder{workspace: workspace, board: board, keys: map[string]int{}, mail: map[string][]bot.RenderedButton{},
		open: map[string]string{}, openAt: map[string]int{}}
}

// Platform names the bench platform.
func (r *Recorder) Platform() string { return Platform }

// CanDM is always true.
func (r *Recorder) CanDM() bool { return true }

// Send records a new message and returns its id.
func (r *Recorder) Send(_ context.Context, d bot.Delivery) (string, error) {
	id := "m" + strconv.FormatInt(r.n.Add(1), 10)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent++
	r.record(d, id)
	return id, nil
}

// Edit records an edit of a message sent before.
func (r *Recorder) Edit(_ context.Context, d bot.Delivery, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.edits++
	r.record(d, id)
	return nil
}

// record counts the key and updates what people can act on; the caller holds mu.
func (r *Recorder) record(d bot.Delivery, id string) {
	r.keys[d.Key]++
	if d.To.Workspace != r.workspace {
		return
	}
	switch {
	case d.To.Kind == bot.DestChannel && d.To.ChannelID == r.board:
		slot := ""
		for _, b := range d.Msg.Buttons {
			if b.Action == flows.ActClaim {
				slot = b.Payload
			}
		}
		if slot != "" {
			r.setOpen(id, slot)
		} else {
			r.closeCard(id)
		}
	case d.To.Kind == bot.DestDM:
		for _, b := range d.Msg.Buttons {
			if b.Action == flows.ActAcceptShare || b.Action == flows.ActDone {
				r.mail[d.To.UserID] = append(r.mail[d.To.UserID], b)
			}
		}
	}
}

func (r *Recorder) setOpen(id, slot string) {
	if _, ok := r.open[id]; !ok {
		r.openAt[id] = len(r.openIDs)
		r.openIDs = append(r.openIDs, id)
	}
	r.open[id] = slot
}

func (r *Recorder) closeCard(id string) {
	i, ok := r.openAt[id]
	if !ok {
		return
	}
	last := r.openIDs[len(r.openIDs)-1]
	r.openIDs[i] = last
	r.openAt[last] = i
	r.openIDs = r.openIDs[:len(r.openIDs)-1]
	delete(r.openAt, id)
	delete(r.open, id)
}

// TakeButton removes and returns the oldest button with action the bot sent user in a
// direct message.
func (r *Recorder) TakeButton(user, action string) (bot.RenderedButton, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	bs := r.mail[user]
	for i, b := range bs {
		if b.Action == action {
			r.mail[user] = append(bs[:i:i], bs[i+1:]...)
			return b, true
		}
	}
	return bot.RenderedButton{}, false
}

// RandomOpen picks the slot of a random board card that still shows "I can help".
func (r *Recorder) RandomOpen(rng *rand.Rand) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.openIDs) == 0 {
		return "", false
	}
	return r.open[r.openIDs[rng.IntN(len(r.openIDs))]], true
}

// OpenCards counts the board cards that show "I can help".
func (r *Recorder) OpenCards() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.openIDs)
}

// Deliveries counts accepted deliveries (sends and edits).
func (r *Recorder) Deliveries() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sent + r.edits
}

// Duplicates counts deliveries beyond the first for each idempotency key.
func (r *Recorder) Duplicates() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.keys {
		if c > 1 {
			n += c - 1
		}
	}
	return n
}
