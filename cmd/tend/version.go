package main

import "runtime/debug"

func (c *cli) version(args []string) int {
	fs := c.flags("version")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	bi, ok := debug.ReadBuildInfo()
	c.say(c.stdout, "cli.version", "Version", versionFrom(bi, ok))
	return exitOK
}

// versionFrom names the build: the module version when installed with go install,
// else the VCS revision (marked -dirty if the tree had changes), else "dev".
func versionFrom(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}
