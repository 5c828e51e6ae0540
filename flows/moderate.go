package flows

// moderationRoutes adds flags, the moderation queue, worries about someone and the audit.
func (s *Service) moderationRoutes(r *Routes) {}
