package bot

import "sync"

// DMChannels remembers each person's direct-message channel with the bot, so an
// adapter opens it once rather than on every message. The zero value is ready to use
// and safe for concurrent use.
type DMChannels struct {
	mu sync.Mutex
	m  map[string]string
}

// Get returns the channel remembered for a user.
func (d *DMChannels) Get(user string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ch, ok := d.m[user]
	return ch, ok
}

// Remember keeps a user's channel; empty values are ignored.
func (d *DMChannels) Remember(user, channel string) {
	if user == "" || channel == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = map[string]string{}
	}
	d.m[user] = channel
}

// Forget drops a user's channel (it was refused: it is opened again next time).
func (d *DMChannels) Forget(user string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.m, user)
}
