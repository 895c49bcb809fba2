package cli

import (
	"github.com/lambdaimg/lambdaimg/pkg/inventory"
	"github.com/spf13/cobra"
)

type diffOptions struct {
	format   string
	insecure bool
}

func newDiffCmd() *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:     "diff OLD NEW",
		Short:   "Say what changed between two images: base, OS packages, RIC and RIE",
		Long:    diffLong,
		Example: diffExample,
		Args:    cobra.ExactArgs(2),
		RunE:    func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0], args[1]) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.format, "output", "o", formatTable, "output format: table, markdown or json")
	f.BoolVar(&o.insecure, "insecure", false, "allow plain-HTTP registries (localhost and 127.0.0.1 always are)")
	return cmd
}

func (o *diffOptions) run(cmd *cobra.Command, oldRef, newRef string) error {
	if err := checkFormat(cmd, &o.format, formatTable, formatMarkdown, formatJSON); err != nil {
		return err
	}
	l, err := inventory.NewLoader(o.insecure)
	if err != nil {
		return err
	}
	old, err := l.Load(cmd.Context(), oldRef)
	if err != nil {
		return err
	}
	cur, err := l.Load(cmd.Context(), newRef)
	if err != nil {
		return err
	}
	c := inventory.Diff(old, cur)
	switch o.format {
	case formatJSON:
		return c.WriteJSON(cmd.OutOrStdout())
	case formatMarkdown:
		return c.WriteMarkdown(cmd.OutOrStdout())
	}
	return c.WriteTable(cmd.OutOrStdout())
}

const (
	diffLong = `Say what changed from image OLD to image NEW: the base image digest, each OS
package whose version moved (old -> new, marking downgrades), the packages
added and removed, and the Runtime Interface Client version and Emulator
binary. Packages are read from the images' package databases (dpkg's status
file); the base and RIC from what the build recorded (the store's annotations).

OLD and NEW are single-platform images: registry references (REPO:TAG or
REPO@DIGEST; the per-architecture tags, not the index) or images of an OCI
layout as oci:DIR:REFNAME or oci:DIR@DIGEST (the store names images
runtime/variant/arch).`
	diffExample = `  lambdaimg diff public.ecr.aws/my-alias/python:3.12.2026.11.24-x86_64 oci:$LAMBDAIMG_STORE:python3.12/debian/x86_64
  lambdaimg diff -o markdown REPO:3.12.2026.11.24-arm64 REPO:3.12-arm64 >> "$GITHUB_STEP_SUMMARY"
  lambdaimg diff -o json OLD NEW`
)
