package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// The build stamps. `make release` sets them with
// -ldflags "-X main.version=… -X main.commit=… -X main.date=…"; a binary built without them
// (go install, go build, the GitHub Action) reports what the Go toolchain recorded instead.
var (
	version = "" // git describe --tags --always --dirty
	commit  = "" // the full commit hash
	date    = "" // the build time, UTC RFC 3339 (SOURCE_DATE_EPOCH for reproducible builds)
)

// buildInfo is what `coffer version` reports; its JSON names are for tools.
type buildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	// Modified is the toolchain's vcs.modified: the checkout had changes not in Commit.
	Modified bool `json:"modified,omitempty"`
	// Built is the stamped build time; Committed the commit time the toolchain recorded. Both
	// are kept apart because a commit time is not when the binary was built.
	Built     string `json:"built,omitempty"`
	Committed string `json:"committed,omitempty"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// currentBuild is this binary's buildInfo.
func currentBuild() buildInfo {
	bi, _ := debug.ReadBuildInfo()
	return describeBuild(version, commit, date, bi)
}

// describeBuild combines the -ldflags stamps with the toolchain's build info (nil when there is
// none): a stamp wins, the build info fills what was not stamped.
func describeBuild(stampedVersion, stampedCommit, stampedDate string, bi *debug.BuildInfo) buildInfo {
	b := buildInfo{
		Version: stampedVersion, Commit: stampedCommit, Built: stampedDate,
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi == nil {
		bi = &debug.BuildInfo{}
	}
	vcs := map[string]string{}
	for _, s := range bi.Settings {
		vcs[s.Key] = s.Value
	}
	if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		// `go install …@v1.2.0` records v1.2.0; since Go 1.24 `go build` in a git checkout
		// records a pseudo-version (with +dirty for uncommitted changes).
		b.Version = bi.Main.Version
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = vcs["vcs.revision"]
	}
	// vcs.modified describes the recorded revision only; a stamped commit may be another one.
	b.Modified = vcs["vcs.modified"] == "true" && b.Commit == vcs["vcs.revision"]
	b.Committed = vcs["vcs.time"]
	return b
}

// String is the one line of `coffer version`, e.g.
// "coffer v1.2.0 (commit 0123456789ab, built 2026-12-07T12:00:00Z, go1.26.8 linux/amd64)".
func (b buildInfo) String() string {
	var parts []string
	if b.Commit != "" {
		// 12 hex digits, as in Go pseudo-versions: the same prefix reads in both.
		c := b.Commit[:min(len(b.Commit), 12)]
		if b.Modified {
			c += "-dirty"
		}
		parts = append(parts, "commit "+c)
	}
	switch {
	case b.Built != "":
		parts = append(parts, "built "+b.Built)
	case b.Committed != "":
		parts = append(parts, "committed "+b.Committed)
	}
	parts = append(parts, b.GoVersion+" "+b.Platform)
	return fmt.Sprintf("coffer %s (%s)", b.Version, strings.Join(parts, ", "))
}

// toolVersion is the version reports and snapshots name (and `coffer merge` compares).
func toolVersion() string {
	return currentBuild().Version
}

func (a *app) versionCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print coffer's version, commit, build date and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return writeVersion(a.stdout, format, currentBuild())
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

func writeVersion(w io.Writer, format string, b buildInfo) error {
	switch format {
	case "text":
		_, err := fmt.Fprintln(w, b)
		return err
	case "json":
		data, err := json.MarshalIndent(b, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(data, '\n'))
		return err
	}
	return usageErrorf("--format: unknown format %q (known: json, text)", format)
}
