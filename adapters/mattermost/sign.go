package mattermost

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
)

// Mattermost does not sign what it sends to an integration's buttons and dialogs: it
// posts the context or state the integration gave, with the user, channel and post as
// the server knows them. So tend signs them itself (HMAC-SHA256 with a secret of its own,
// never the bot token) and refuses, with 401, anything unsigned, forged, or carried to
// another post.
//
// A button is bound to the post it sits on through a reference signed with it:
//
//   - "p:<post id>" names the post directly: ephemeral posts, whose id tend chooses, and
//     posts edited in place, whose id is known;
//   - "k:<digest>" is derived from the delivery's idempotency key, for a post the server
//     has not created yet when its buttons are signed. The post carries the reference in
//     its props (tend_ref), and a press is accepted only on the post that carries it: the
//     adapter remembers the post Send created for each reference, and asks the server
//     (GET /posts/{id}) when another replica sent it. The same key always makes the same
//     reference, so a resend after a crash signs the same buttons.

// propRef is the post prop that carries a post's reference.
const propRef = "tend_ref"

// Kinds of signed things.
const (
	kindButton = "b" // a button: action and payload
	kindSelect = "s" // a choice menu: action; the value is the person's pick
	kindForm   = "f" // "open the form": the form itself, opened with a fresh trigger
	kindDialog = "d" // a dialog's state
)

// Context keys of a signed action.
const (
	ctxKind      = "k"
	ctxWorkspace = "w"
	ctxAction    = "a"
	ctxPayload   = "p"
	ctxRef       = "r"
	ctxSig       = "s"
	// ctxSelected is added by the server with the option a person picked.
	ctxSelected = "selected_option"
)

// signer makes and checks HMAC-SHA256 signatures; keys[0] signs, every key verifies.
type signer struct{ keys [][]byte }

// mac is the HMAC of the parts, each length-prefixed so no two lists sign alike.
func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("tend/mattermost/v1"))
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		m.Write(n[:])
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

func (s signer) sign(parts ...string) string { return hex.EncodeToString(mac(s.keys[0], parts...)) }

// verify checks sig against every key, in constant time for each.
func (s signer) verify(sig string, parts ...string) bool {
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	ok := false
	for _, k := range s.keys {
		if hmac.Equal(got, mac(k, parts...)) {
			ok = true
		}
	}
	return ok
}

// digest is a short keyed digest, for ids derived from what must not be guessed.
func (s signer) digest(n int, parts ...string) string {
	return hex.EncodeToString(mac(s.keys[0], parts...))[:n]
}

// keyRef is the reference of a post sent for a delivery key; with no key, a random one.
func keyRef(key string) string {
	if key == "" {
		return "k:" + randomHex(16)
	}
	sum := sha256.Sum256([]byte("tend/mattermost/ref\x00" + key))
	return "k:" + hex.EncodeToString(sum[:16])
}

// postRef is the reference of a post whose id is known.
func postRef(postID string) string { return "p:" + postID }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// action is a verified action context.
type action struct {
	kind, workspace, action, payload, ref string
}

// actionContext signs an action for its post.
func (s signer) actionContext(x action) map[string]any {
	return map[string]any{
		ctxKind: x.kind, ctxWorkspace: x.workspace, ctxAction: x.action, ctxPayload: x.payload, ctxRef: x.ref,
		ctxSig: s.sign(x.kind, x.workspace, x.action, x.payload, x.ref),
	}
}

var errUnsigned = errors.New("unsigned or forged context")

// readContext checks an action context's signature.
func (s signer) readContext(c map[string]any) (action, error) {
	str := func(k string) string {
		v, _ := c[k].(string)
		return v
	}
	x := action{kind: str(ctxKind), workspace: str(ctxWorkspace), action: str(ctxAction), payload: str(ctxPayload), ref: str(ctxRef)}
	sig := str(ctxSig)
	if sig == "" || x.kind == "" || x.ref == "" || !s.verify(sig, x.kind, x.workspace, x.action, x.payload, x.ref) {
		return action{}, errUnsigned
	}
	return x, nil
}

// dialogState is what a dialog carries between its opening and its submission.
type dialogState struct {
	Form      string `json:"f"`
	Payload   string `json:"p,omitempty"`
	Workspace string `json:"w,omitempty"`
	Channel   string `json:"c,omitempty"`
	User      string `json:"u"`
	DM        bool   `json:"dm,omitempty"`
	// DateTimes are the fields shown with the date picker, whose answers are read in
	// the community's zone.
	DateTimes []string `json:"dt,omitempty"`
	// Nonce tells two openings of one form apart, for the submission's event id.
	Nonce string `json:"n"`
}

// encodeState signs a dialog's state: base64url JSON, a dot, the signature.
func (s signer) encodeState(st dialogState) string {
	b, _ := json.Marshal(st)
	body := base64.RawURLEncoding.EncodeToString(b)
	return body + "." + s.sign(kindDialog, body)
}

// decodeState checks a dialog state's signature and reads it.
func (s signer) decodeState(state string) (dialogState, error) {
	body, sig, ok := strings.Cut(state, ".")
	if !ok || !s.verify(sig, kindDialog, body) {
		return dialogState{}, errUnsigned
	}
	b, err := base64.RawURLEncoding.DecodeString(body)
	var st dialogState
	if err != nil || json.Unmarshal(b, &st) != nil || st.Form == "" || st.User == "" {
		return dialogState{}, errUnsigned
	}
	return st, nil
}
