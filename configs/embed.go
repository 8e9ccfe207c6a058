package configs

import (
	_ "embed"
	_ "time/tzdata" // IANA zones for team hours, even in a scratch container
)

// defaultYAML and demoDirectoryYAML are strings so that they cannot change.
//
//go:embed airbranch.yaml
var defaultYAML string

//go:embed demo/directory.yaml
var demoDirectoryYAML string

// Names under which the embedded files appear in problems.
const (
	embeddedConfigName    = "configs/airbranch.yaml (embedded)"
	embeddedDirectoryName = "configs/demo/directory.yaml (embedded)"
)

// DefaultYAML returns a copy of the embedded, documented default
// configuration (configs/airbranch.yaml): a starting point for a config file.
func DefaultYAML() []byte { return []byte(defaultYAML) }

// DemoDirectoryYAML returns a copy of the embedded demo directory
// (configs/demo/directory.yaml): a starting point for a directory file.
func DemoDirectoryYAML() []byte { return []byte(demoDirectoryYAML) }
