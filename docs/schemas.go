// Package docs embeds the snapshot's JSON Schema published in this folder, so that the binary
// carries the one copy users read: policies are type-checked against it when they load
// (checks.NewPolicyCompiler), and a schema edited here changes what checks may reference.
package docs

import _ "embed"

// SnapshotSchema is snapshot.schema.json, the schema of a snapshot (Go type checks.Snapshot).
//
//go:embed snapshot.schema.json
var SnapshotSchema []byte
