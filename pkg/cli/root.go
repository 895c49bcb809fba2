package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X .../pkg/cli.Version=v1.2.3".
var Version = "dev"

// UsageError marks an error in how lambdaimg was called; main exits 2 for it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// IsUsage reports whether err is a usage error.
func IsUsage(err error) bool {
	var u *UsageError
	return errors.As(err, &u)
}

// Env is what commands need from the outside world, replaceable in tests.
type Env struct {
	Now    func() time.Time
	Stderr io.Writer
	// Getenv reads the environment (default os.Getenv).
	Getenv func(string) string
}

// New returns the lambdaimg command tree.
func New(env Env) *cobra.Command {
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	g := &globalOptions{getenv: env.Getenv}
	root := &cobra.Command{
		Use:           "lambdaimg",
		Short:         "Build, test and publish AWS Lambda container images",
		Long:          rootLong,
		Example:       rootExample,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// BuildKit's client-side content store logs through logrus (e.g. that
	// fsverity is unsupported); lambdaimg reports what matters itself.
	logrus.SetLevel(logrus.ErrorLevel)
	if env.Stderr != nil {
		root.SetErr(env.Stderr)
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{err} })
	g.bind(root)
	root.AddCommand(commands(g, env)...)
	usageArgs(root)
	return root
}

// usageArgs makes the argument errors of cmd and every command under it
// usage errors (exit 2), and makes the commands that only group others
// (lambdaimg, builder) refuse an argument that names none of them: alone,
// they print their help.
func usageArgs(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		usageArgs(c)
	}
	switch {
	case cmd.HasSubCommands() && !cmd.Runnable():
		cmd.Args = cobra.ArbitraryArgs
		cmd.RunE = func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &UsageError{unknownCommand(c, args[0])}
			}
			return c.Help()
		}
	case cmd.Args != nil:
		check := cmd.Args
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				return &UsageError{err}
			}
			return nil
		}
	}
}

func unknownCommand(c *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q for %q", name, c.CommandPath())
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	if s := c.SuggestionsFor(name); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
	}
	return errors.New(msg)
}

const (
	rootLong = `lambdaimg builds AWS Lambda runtime images from a readable catalog
(runtimes.yaml) and Dockerfile templates: AWS's own base images extended,
or images built from Amazon Linux, Alpine, Debian, Ubuntu or CentOS with the
Runtime Interface Client and the Runtime Interface Emulator layered in. It
builds them with BuildKit for x86_64 and arm64, tests them as Lambda functions
through the emulator, and publishes them with go-containerregistry.`
	rootExample = `  lambdaimg list
  lambdaimg generate --runtime python3.12 -o contexts
  lambdaimg generate --all --os alpine --platform linux/arm64
  lambdaimg build --runtime python3.8
  lambdaimg test --runtime nodejs20.x
  lambdaimg push --registry public.ecr.aws/my-alias
  lambdaimg builder status`
)

// bind binds the flags every command takes.
func (g *globalOptions) bind(root *cobra.Command) {
	f := root.PersistentFlags()
	f.StringVar(&g.catalog, "catalog", "", "catalog file to use instead of the built-in runtimes.yaml (with 'extends: builtin' it adds to it)")
	f.StringVar(&g.templates, "templates", "", "template directory to use instead of the built-in templates")
	f.StringVar(&g.config, "config", "", "user config file (default $LAMBDAIMG_CONFIG, else <user config dir>/lambdaimg/config.yaml, e.g. ~/.config/lambdaimg/config.yaml): builders: the pool build, test and run use when no --builder, --addr nor BUILDKIT_HOST names one")
	f.BoolVar(&g.allowHostPaths, "allow-host-paths", false, "let the --catalog name extension paths outside its own directory (absolute paths, '..', links out); without it they are refused")
	f.StringArrayVar(&g.limitFlags, "limit", nil, limitUsage)
}

// commands are lambdaimg's commands, in the order help lists them.
func commands(g *globalOptions, env Env) []*cobra.Command {
	return []*cobra.Command{
		newListCmd(g, env),
		newGenerateCmd(g),
		newBuildCmd(g, env),
		newBuilderCmd(g),
		newTestCmd(g, env),
		newRunCmd(g, env),
		newInternalCmd(),
		newPushCmd(g, env),
		newVerifyCmd(g, env),
		newVersionCmd(),
		newCICmd(g),
		newPlanCmd(g),
		newLockCmd(g),
		newRollbackCmd(g),
		newDiffCmd(),
	}
}
