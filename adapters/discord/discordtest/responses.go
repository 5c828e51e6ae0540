package discordtest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Interaction callback (response) types.
const (
	callbackPong            = 1
	callbackMessage         = 4
	callbackDeferredMessage = 5
	callbackDeferredUpdate  = 6
	callbackUpdateMessage   = 7
	callbackModal           = 9
)

// nestErrors moves form errors under a key ("data" for callbacks).
func nestErrors(e *apiError, key string) *apiError {
	if e == nil || e.errors == nil {
		return e
	}
	out := *e
	out.errors = map[string]any{key: e.errors}
	out.detail = key + "." + strings.ReplaceAll(e.detail, "; ", "; "+key+".")
	return &out
}

func invalidResponseType() *apiError {
	var f formErrors
	f.add("type", "INTERACTION_RESPONSE_TYPE_INVALID", "Interaction response type is invalid for this interaction")
	return f.err()
}

// interactionCallback serves POST /interactions/{id}/{token}/callback.
func (s *Server) interactionCallback(iid, token string, payload any, withResponse bool) resp {
	s.mu.Lock()
	defer s.mu.Unlock()
	route := "POST /interactions/" + iid + "/<token>/callback"
	it := s.interactions[iid]
	if it == nil || it.token != token {
		s.problemLocked("%s: unknown interaction (or wrong token)", route)
		return errUnknownInter.resp()
	}
	b, e := bodyObject(payload)
	if e != nil {
		return s.invalidBody(route, e)
	}
	t64, _ := num(b["type"])
	t := int(t64)
	if it.acked {
		s.problemLocked("%s: interaction acknowledged twice (type %d after type %d)", route, t, it.ackType)
		return errAcked.resp()
	}
	data := objOf(b["data"])
	fail := func(e *apiError) resp {
		s.problemLocked("%s: response type %d to interaction type %d: %s", route, t, it.typ, e.describe())
		return e.resp()
	}
	var resource *storedMsg
	switch t {
	case callbackPong:
		if it.typ != interactionPing {
			return fail(invalidResponseType())
		}
	case callbackMessage:
		if it.typ == interactionPing {
			return fail(invalidResponseType())
		}
		if data == nil {
			data = map[string]any{}
		}
		if e := nestErrors(validateMessage(data, true), "data"); e != nil {
			return fail(e)
		}
		m := s.responseMessageLocked(it, data)
		s.store[m.id] = m
		s.recordLocked(m, "callback", false)
		it.originalID, resource = m.id, m
	case callbackDeferredMessage:
		if it.typ == interactionPing {
			return fail(invalidResponseType())
		}
		flags, _ := num(data["flags"])
		m := s.responseMessageLocked(it, map[string]any{"flags": flags})
		m.obj["flags"] = flagLoading | (flags & flagEphemeral)
		s.store[m.id] = m
		it.originalID, it.deferred, resource = m.id, true, m
	case callbackDeferredUpdate, callbackUpdateMessage:
		if (it.typ != interactionComponent && it.typ != interactionModalSubmit) || it.messageID == "" {
			return fail(invalidResponseType())
		}
		m := s.store[it.messageID]
		if m == nil || m.deleted {
			return fail(errUnknownMsg)
		}
		if t == callbackUpdateMessage {
			if data == nil {
				data = map[string]any{}
			}
			if e := nestErrors(validateMessage(data, false), "data"); e != nil {
				return fail(e)
			}
			applyEdit(m, data)
			s.recordLocked(m, "callback", true)
		}
		it.originalID, resource = m.id, m
	case callbackModal:
		if it.typ == interactionPing || it.typ == interactionModalSubmit {
			return fail(invalidResponseType())
		}
		modal, e := validateModal(data)
		if e != nil {
			return fail(nestErrors(e, "data"))
		}
		s.modals[iid] = modal
		s.modalLog = append(s.modalLog, modalRec{interactionID: iid, modal: modal})
	default:
		return fail(invalidResponseType())
	}
	it.acked, it.ackType = true, t
	raw, _ := json.Marshal(b["data"])
	s.callbacks = append(s.callbacks, Callback{InteractionID: iid, Type: t, Data: raw})
	if !withResponse {
		return noContent()
	}
	out := map[string]any{"interaction": map[string]any{"id": iid, "type": it.typ}}
	if resource != nil {
		flags, _ := num(resource.obj["flags"])
		inter := out["interaction"].(map[string]any)
		inter["response_message_id"] = resource.id
		inter["response_message_loading"] = flags&flagLoading != 0
		inter["response_message_ephemeral"] = flags&flagEphemeral != 0
		out["resource"] = map[string]any{"type": t, "message": clone(resource.obj)}
	} else {
		out["resource"] = map[string]any{"type": t}
	}
	return ok(out)
}

// responseMessageLocked builds a message answering an interaction (a type 4
// or 5 response, or a follow-up), ephemeral to its user with flag 64.
func (s *Server) responseMessageLocked(it *interaction, data map[string]any) *storedMsg {
	m := s.newMessageLocked(it.channelID, data)
	flags, _ := num(data["flags"])
	if flags&flagEphemeral != 0 {
		m.ephemeralTo = it.user.ID
	}
	if it.typ == interactionCommand {
		m.obj["type"] = 20 // CHAT_INPUT_COMMAND
	}
	m.obj["application_id"] = s.opts.AppID
	m.obj["webhook_id"] = s.opts.AppID
	m.obj["interaction_metadata"] = map[string]any{"id": it.id, "type": it.typ, "user": userJSON(it.user),
		"authorizing_integration_owners": map[string]any{"0": orZero(it.guildID)}}
	m.interactionID = it.id
	return m
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// webhookInteractionLocked resolves /webhooks/{app}/{token}.
func (s *Server) webhookInteractionLocked(route, appID, token string) (*interaction, *apiError) {
	if appID != s.opts.AppID {
		s.problemLocked("%s: application id %s is not the bot's (%s)", route, appID, s.opts.AppID)
		return nil, errUnknownHook
	}
	it := s.byToken[token]
	if it == nil {
		s.problemLocked("%s: unknown interaction token", route)
		return nil, errUnknownHook
	}
	if !it.acked {
		s.problemLocked("%s: interaction %s has not been acknowledged yet (respond through /callback first)", route, it.id)
		return nil, errUnknownHook
	}
	return it, nil
}

// followup serves POST /webhooks/{app}/{token}. As on Discord, the first
// follow-up after a deferred (type 5) response fills the deferred message
// (same id, its ephemerality) instead of posting a new one.
func (s *Server) followup(appID, token string, payload any) resp {
	s.mu.Lock()
	defer s.mu.Unlock()
	route := "POST /webhooks/" + appID + "/<token>"
	it, e := s.webhookInteractionLocked(route, appID, token)
	if e != nil {
		return e.resp()
	}
	b, e := bodyObject(payload)
	if e == nil {
		e = validateMessage(b, true)
	}
	if e != nil {
		return s.invalidBody(route, e)
	}
	if it.deferred {
		m := s.store[it.originalID]
		it.deferred = false
		fillDeferred(m, b)
		s.recordLocked(m, "followup", false)
		return ok(clone(m.obj))
	}
	m := s.responseMessageLocked(it, b)
	if it.originalID != "" {
		m.obj["interaction_metadata"].(map[string]any)["original_response_message_id"] = it.originalID
	}
	s.store[m.id] = m
	s.recordLocked(m, "followup", false)
	return ok(clone(m.obj))
}

// fillDeferred gives a deferred response its content.
func fillDeferred(m *storedMsg, b map[string]any) {
	flags, _ := num(m.obj["flags"])
	applyEdit(m, b)
	m.obj["flags"] = flags &^ flagLoading
	m.obj["edited_timestamp"] = nil
}

// webhookMessage serves GET/PATCH/DELETE /webhooks/{app}/{token}/messages/{id|@original}.
func (s *Server) webhookMessage(method, appID, token, mid string, payload any) resp {
	s.mu.Lock()
	defer s.mu.Unlock()
	route := fmt.Sprintf("%s /webhooks/%s/<token>/messages/%s", method, appID, mid)
	it, e := s.webhookInteractionLocked(route, appID, token)
	if e != nil {
		return e.resp()
	}
	id := mid
	if mid == "@original" {
		id = it.originalID
	}
	m := s.store[id]
	if id == "" || m == nil || m.deleted || (m.interactionID != it.id && id != it.originalID) {
		s.problemLocked("%s: no such message for this interaction", route)
		return errUnknownMsg.resp()
	}
	via := "followup"
	if id == it.originalID {
		via = "original"
	}
	switch method {
	case "GET":
		return ok(clone(m.obj))
	case "DELETE":
		m.deleted = true
		s.recordLocked(m, via, true)
		return noContent()
	}
	b, e := bodyObject(payload)
	if e == nil {
		e = validateMessage(b, false)
	}
	if e != nil {
		return s.invalidBody(route, e)
	}
	if it.deferred && id == it.originalID {
		it.deferred = false
		fillDeferred(m, b)
		s.recordLocked(m, via, false)
		return ok(clone(m.obj))
	}
	applyEdit(m, b)
	s.recordLocked(m, via, true)
	return ok(clone(m.obj))
}
