package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/lambdaimg/lambdaimg/pkg/cli"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		interrupted bool
		want        int
	}{
		{"help", []string{}, false, 0},
		{"unknown command", []string{"frobnicate"}, false, 2},
		{"extra argument", []string{"build", "extra"}, false, 2},
		{"verify without images", []string{"verify"}, false, 2},
		{"unknown builder command", []string{"builder", "foo"}, false, 2},
		{"unknown flag", []string{"list", "--nope"}, false, 2},
		{"jobs 0", []string{"build", "-r", "python3.12", "--jobs", "0"}, false, 2},
		{"a failure", []string{"list", "--catalog", "/nonexistent/catalog.yaml"}, false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := cli.New(cli.Env{})
			cmd.SetArgs(tc.args)
			cmd.SetOut(new(nopWriter))
			err := cmd.Execute()
			if got := exitCode(err, tc.interrupted); got != tc.want {
				t.Errorf("exit code %d (err %v), want %d", got, err, tc.want)
			}
		})
	}
	// A run stopped by a signal ends with the cancelled context's error.
	if got := exitCode(fmt.Errorf("extension x: %w", context.Canceled), true); got != 130 {
		t.Errorf("interrupted run: exit code %d, want 130", got)
	}
	if got := exitCode(fmt.Errorf("planning: %w", &cli.ExitError{Code: cli.PlanChanged, Err: errors.New("changed")}), false); got != 10 {
		t.Errorf("a plan with changes: exit code %d, want 10", got)
	}
	if got := exitCode(errors.New("boom"), true); got != 1 {
		t.Errorf("error other than the cancel: exit code %d, want 1", got)
	}
}

type nopWriter struct{}

func (*nopWriter) Write(p []byte) (int, error) { return len(p), nil }
