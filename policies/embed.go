// Package policies embeds coffer's built-in Rego checks, their tests and the shared helpers in lib/.
package policies

import "embed"

// FS holds every built-in .rego file (checks, their _test.rego files and lib/).
//
//go:embed */*.rego
var FS embed.FS
