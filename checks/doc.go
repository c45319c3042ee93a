// Package checks holds the account snapshot model, bucket roles, the coffer.yaml configuration,
// the Rego engine that evaluates the checks of policies/ against a snapshot, and the
// Finding/Rule/Report types that every reporter and the fixer consume. It also holds what works on
// those types without talking to AWS: waivers and baselines, the remediation commands printed with
// each finding (merged with the other failures that rewrite the same configuration), reading
// reports and snapshots back, and the diff of two of them (`coffer diff`).
//
// It knows nothing about AWS clients, and of output formats only the JSON its types carry (the
// report contract of DESIGN §6 and the snapshot).
package checks
