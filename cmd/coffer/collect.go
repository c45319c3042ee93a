package main

import (
	"io"

	"github.com/coffer-audit/coffer/checks"
	"github.com/coffer-audit/coffer/checks/atomicfile"
	"github.com/spf13/cobra"
)

func (a *app) collectCmd() *cobra.Command {
	var f awsFlags
	var out string
	cmd := &cobra.Command{
		Use:   "collect",
		Short: "Read the account's configuration (read-only) into a snapshot file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.org.validate(); err != nil {
				return err
			}
			if f.org.enabled() {
				return a.writeOrgSnapshot(cmd.Context(), &f, out)
			}
			snap, err := a.liveSnapshot(cmd.Context(), &f)
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				return checks.WriteSnapshot(a.stdout, snap)
			}
			return atomicfile.Write(out, func(w io.Writer) error { return checks.WriteSnapshot(w, snap) })
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the snapshot here (default stdout)")
	return cmd
}
