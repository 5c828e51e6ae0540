-- One community on several platforms: a request remembers the space it was asked in and
-- whether its requester chose to show it in the community's other spaces too; a space
-- may refuse requests shared from the others.

-- The space (platform, workspace) a request was asked in. Empty for requests made before
-- this migration: those keep showing on every board of their community, as they did.
ALTER TABLE requests ADD COLUMN origin_platform TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN origin_workspace TEXT NOT NULL DEFAULT '';
-- Whether the requester chose to show the request in the community's other spaces.
ALTER TABLE requests ADD COLUMN shared {{BOOL}} NOT NULL DEFAULT FALSE;

-- A space that does not take requests shared from the community's other spaces. Spaces
-- receive them unless told otherwise: the requester's own choice (only here, by default)
-- is what keeps a request private.
ALTER TABLE space_bindings ADD COLUMN refuses_shared {{BOOL}} NOT NULL DEFAULT FALSE;
