package ci

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"text/template"

	"github.com/google/go-containerregistry/pkg/name"
)

// DefaultWorkflow is where `lambdaimg ci github` writes by default.
const DefaultWorkflow = ".github/workflows/lambdaimg.yml"

// Schedules that have a name; anything else must be a cron expression.
var namedSchedules = map[string]string{
	// Off the hour: GitHub delays the jobs queued on the hour most.
	"daily":  "17 4 * * *",
	"weekly": "17 4 * * 1",
}

// DefaultBuildKitImage is the buildkitd image the build jobs start.
const DefaultBuildKitImage = "moby/buildkit:v0.34.2"

// GitHub says what the generated workflow does. The zero value of each
// field but Select takes the default.
type GitHub struct {
	// Schedule is "daily" (the default), "weekly" or a five-field cron
	// expression, in UTC.
	Schedule string
	// Version is the lambdaimg version the jobs install with go install
	// (default "latest").
	Version string
	// Select are the selection flags of plan, e.g. ["--all"] or
	// ["--runtime", "python3.12"].
	Select []string
	// Catalog and Templates are passed to every command as --catalog and
	// --templates when set (paths in the repository).
	Catalog, Templates string
	// Registries are passed to push as --registry; none means the
	// catalog's defaults.registries. A selection of one platform
	// (--platform) pushes only the per-architecture and dated tags: an
	// index would name that platform alone.
	Registries []string
	// BuildKitImage is the buildkitd image (default DefaultBuildKitImage).
	BuildKitImage string
	// Builders, when set, are the pool the build jobs use instead of a
	// buildkitd started on the runner, in --builder's form, except that
	// cacert, cert and key name GitHub secrets holding the PEM files
	// (written to files in the job, never into the workflow).
	Builders []string
	// CatalogRegistries are the catalog's defaults.registries, which push
	// takes when Registries is empty; the publish job logs in to the
	// registries it pushes to.
	CatalogRegistries []string
	// AWSRole is the IAM role the publish job assumes through GitHub's
	// OpenID Connect provider to push to Amazon ECR (public or private).
	AWSRole string
}

// tmplData is what the template is executed with.
type tmplData struct {
	Schedule, Version, PlanArgs, GlobalArgs, PushArgs, BuildKitImage string
	Pool                                                             pool
	Logins                                                           []login
	IDToken, Packages                                                bool
}

//go:embed github.yml.tmpl
var githubTemplate string

var workflow = template.Must(template.New("github.yml").Delims("[[", "]]").
	Funcs(template.FuncMap{"yq": yamlQuote}).Parse(githubTemplate))

var (
	cronField = regexp.MustCompile(`^[0-9A-Za-z*/,-]+$`)
	version   = regexp.MustCompile(`^(latest|v[0-9]+\.[0-9]+\.[0-9]+[0-9A-Za-z.+-]*|[0-9a-f]{7,40})$`)
	safeArg   = regexp.MustCompile(`^[A-Za-z0-9_./:=@+,-]+$`)
)

// Generate returns the workflow g describes. It is deterministic: the
// same options give the same bytes.
func Generate(g GitHub) ([]byte, error) {
	if err := g.fill(); err != nil {
		return nil, err
	}
	var global []string
	if g.Catalog != "" {
		global = append(global, "--catalog", g.Catalog)
	}
	if g.Templates != "" {
		global = append(global, "--templates", g.Templates)
	}
	var push []string
	for _, r := range g.Registries {
		push = append(push, "--registry", r)
	}
	if somePlatforms(g.Select) {
		// Indexes would name only the selected platforms: leave them.
		push = append(push, "--tags", "arch,dated")
	}
	for _, a := range append(append(append([]string{}, global...), g.Select...), push...) {
		if !safeArg.MatchString(a) {
			return nil, fmt.Errorf("argument %q: only letters, digits and _./:=@+,- are allowed in the workflow's commands", a)
		}
	}
	p, err := poolOf(g.Builders)
	if err != nil {
		return nil, err
	}
	pushTo := g.Registries
	if len(pushTo) == 0 {
		pushTo = g.CatalogRegistries
	}
	logins, err := loginsOf(pushTo, g.AWSRole)
	if err != nil {
		return nil, err
	}
	data := tmplData{
		Schedule:      g.Schedule,
		Version:       g.Version,
		PlanArgs:      args(append(append([]string{}, global...), g.Select...)),
		GlobalArgs:    args(global),
		PushArgs:      args(push),
		BuildKitImage: g.BuildKitImage,
		Pool:          p,
		Logins:        logins,
		IDToken:       anyKind(logins, "ecr", "ecr-public"),
		Packages:      anyKind(logins, "ghcr"),
	}
	var buf bytes.Buffer
	if err := workflow.Execute(&buf, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// fill validates g and fills in its defaults.
func (g *GitHub) fill() error {
	var errs []error
	if g.Schedule == "" {
		g.Schedule = "daily"
	}
	if cron, ok := namedSchedules[g.Schedule]; ok {
		g.Schedule = cron
	} else if f := strings.Fields(g.Schedule); len(f) != 5 || !allMatch(cronField, f) {
		errs = append(errs, fmt.Errorf("schedule %q: want daily, weekly or a cron expression of 5 fields, e.g. \"17 4 * * *\"", g.Schedule))
	} else {
		g.Schedule = strings.Join(f, " ")
	}
	if g.Version == "" {
		g.Version = "latest"
	}
	if !version.MatchString(g.Version) {
		errs = append(errs, fmt.Errorf("version %q: want latest, a release such as v1.2.3 or a commit", g.Version))
	}
	if len(g.Select) == 0 {
		errs = append(errs, errors.New("no selection: pass the plan's selection, e.g. --all"))
	}
	for _, r := range g.Registries {
		if _, err := name.NewRepository(r); err != nil {
			errs = append(errs, fmt.Errorf("registry %q: %w", r, err))
		}
	}
	if g.BuildKitImage == "" {
		g.BuildKitImage = DefaultBuildKitImage
	}
	if _, err := name.ParseReference(g.BuildKitImage); err != nil {
		errs = append(errs, fmt.Errorf("buildkit image %q: %w", g.BuildKitImage, err))
	}
	return errors.Join(errs...)
}

// somePlatforms reports whether the selection names some platforms but
// not both, linux/amd64 and linux/arm64.
func somePlatforms(sel []string) bool {
	seen := map[string]bool{}
	for i := 0; i+1 < len(sel); i++ {
		if sel[i] == "--platform" {
			seen[sel[i+1]] = true
		}
	}
	return len(seen) > 0 && !(seen["linux/amd64"] && seen["linux/arm64"])
}

func allMatch(re *regexp.Regexp, list []string) bool {
	for _, s := range list {
		if !re.MatchString(s) {
			return false
		}
	}
	return true
}

// args joins command-line arguments, each with a leading space.
func args(list []string) string {
	var b strings.Builder
	for _, a := range list {
		b.WriteString(" " + a)
	}
	return b.String()
}

// yamlQuote writes s as a double-quoted YAML scalar (JSON strings are).
func yamlQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
