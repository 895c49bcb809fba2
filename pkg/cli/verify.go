package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/lambdaimg/lambdaimg/pkg/verify"
	"github.com/spf13/cobra"
)

type verifyOptions struct {
	output   string
	cmdRule  string
	insecure bool
}

func newVerifyCmd(g *globalOptions, env Env) *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:     "verify REF|oci:DIR[:REFNAME]...",
		Short:   "Check images against what AWS Lambda accepts",
		Long:    verifyLong,
		Example: verifyExample,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("name at least one image to verify: REF or oci:DIR[:REFNAME]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", formatTable, "output format: table or json")
	f.StringVar(&o.cmdRule, "cmd", string(verify.CmdAuto), "what a missing CMD is: auto, require (a failure) or optional")
	f.BoolVar(&o.insecure, "insecure", false, "allow plain-HTTP registries (localhost and 127.0.0.1 always are)")
	return cmd
}

func runVerify(cmd *cobra.Command, o *verifyOptions, args []string) error {
	if err := checkFormat(cmd, &o.output, formatTable, formatJSON); err != nil {
		return err
	}
	rule := verify.CmdRule(o.cmdRule)
	if !rule.Valid() {
		return &UsageError{fmt.Errorf("--cmd %q: use auto, require or optional", o.cmdRule)}
	}
	v, err := verify.New(verify.WithCmdRule(rule), verify.WithRegistries(o.insecure))
	if err != nil {
		return err
	}
	reports, err := v.References(cmd.Context(), args)
	return errors.Join(err, writeReports(cmd.OutOrStdout(), o.output, reports))
}

func writeReports(w io.Writer, output string, reports []verify.Report) error {
	if output == formatJSON {
		if reports == nil {
			reports = []verify.Report{}
		}
		return writeJSON(w, reports)
	}
	for _, r := range reports {
		head := r.Ref
		if r.Digest != "" {
			head += " " + r.Digest
		}
		if r.Platform != "" {
			head += " " + r.Platform
		}
		if _, err := fmt.Fprintln(w, head); err != nil {
			return err
		}
		for _, c := range r.Checks {
			if _, err := fmt.Fprintf(w, "  %s %-27s %s\n", c.Status, c.Name, c.Reason); err != nil {
				return err
			}
		}
	}
	return nil
}

const (
	verifyLong = `Check images against what AWS Lambda accepts and say precisely what fails:
one line per check, PASS, WARN or FAIL with the reason.

  manifest     a single-platform image manifest (Docker v2 schema 2 or OCI), not
               an index: Lambda rejects the index that attestations wrap an image in
  config       an image config whose diff_ids match the layers
  platform     linux/amd64 or linux/arm64, agreeing with the index or layout entry
  layers       gzip-compressed layers (zstd and uncompressed ones are rejected)
  size         at most 10 GiB uncompressed
  settings     ENTRYPOINT, CMD, WORKDIR and ENV within Lambda's 16 KiB
  entrypoint   absolute, present, an executable file and not a symlink
  cmd          present (--cmd: a warning for base images labelled
               io.lambdaimg.runtime and for entry points that take no handler)
  binary-arch  the ELF machine of the entry point (or its #! interpreter), of
               /var/runtime/bootstrap and of the emulator matches the config
  contract-*   LAMBDA_TASK_ROOT=/var/task, LAMBDA_RUNTIME_DIR=/var/runtime,
               WORKDIR /var/task and /lambda-entrypoint.sh (failures for base
               images and images using /lambda-entrypoint.sh, warnings otherwise)

REF is a registry reference (REPO:TAG or REPO@DIGEST) or an OCI layout:
oci:DIR checks every image in it (oci:$LAMBDAIMG_STORE checks the whole store),
oci:DIR:REFNAME the one named REFNAME (the store names images
runtime/variant/arch), oci:DIR@DIGEST the one with that digest.

Exits non-zero when any check fails.`
	verifyExample = `  lambdaimg verify public.ecr.aws/lambda/python:3.12-arm64
  lambdaimg verify oci:$HOME/.local/share/lambdaimg/store
  lambdaimg verify oci:./store:python3.12/aws/x86_64 -o json
  lambdaimg verify --cmd require 123456789012.dkr.ecr.us-east-1.amazonaws.com/fn:latest`
)
