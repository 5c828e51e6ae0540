package flows

import "context"

// CommandFunc is a chat command: "/tend <name> <args...>".
type CommandFunc func(ctx context.Context, a Actor, args []string) (Result, error)

// PressFunc is a button: its payload, and the value picked when it is a choice.
type PressFunc func(ctx context.Context, a Actor, payload, value string) (Result, error)

// SubmitFunc is a submitted form.
type SubmitFunc func(ctx context.Context, a Actor, payload string, values map[string]string) (Result, error)

// JobFunc is a job a flow scheduled, about the row ref.
type JobFunc func(ctx context.Context, ref int64) (Result, error)

// Routes are the commands (under every name they answer to, English and French), buttons,
// forms and jobs of the flow areas beyond the core; the bot looks here after its own.
type Routes struct {
	Commands map[string]CommandFunc
	Buttons  map[string]PressFunc
	Forms    map[string]SubmitFunc
	Jobs     map[string]JobFunc
}

// Routes returns the flow areas' routes.
func (s *Service) Routes() Routes { return s.routes }

func (s *Service) buildRoutes() Routes {
	r := Routes{Commands: map[string]CommandFunc{}, Buttons: map[string]PressFunc{}, Forms: map[string]SubmitFunc{}, Jobs: map[string]JobFunc{}}
	s.escalationRoutes(&r)
	s.moderationRoutes(&r)
	s.visitRoutes(&r)
	s.proxyRoutes(&r)
	s.linkRoutes(&r)
	s.editRoutes(&r)
	s.departureRoutes(&r)
	s.setupRoutes(&r)
	s.settingsRoutes(&r)
	s.statsRoutes(&r)
	s.mydataRoutes(&r)
	return r
}
