package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// MatrixEntry is one job of a GitHub Actions matrix.
type MatrixEntry struct {
	Runtime  string `json:"runtime"`
	Variant  string `json:"variant"`
	Platform string `json:"platform"`
	Runner   string `json:"runner"`
}

// Matrix is a GitHub Actions strategy.matrix of the items to rebuild.
type Matrix struct {
	Include []MatrixEntry `json:"include"`
}

// Matrix returns the matrix of the items to rebuild (Include is empty,
// not null, when there are none).
func (p *Plan) Matrix() Matrix {
	m := Matrix{Include: []MatrixEntry{}}
	for _, it := range p.Rebuild() {
		m.Include = append(m.Include, MatrixEntry{Runtime: it.Runtime, Variant: it.Variant, Platform: it.Platform, Runner: it.Runner})
	}
	return m
}

// WriteMatrix writes the matrix as one line of JSON, as a GitHub Actions
// step output wants it.
func (p *Plan) WriteMatrix(w io.Writer) error {
	data, err := json.Marshal(p.Matrix())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}

// WriteTable writes one line per target and platform: what happens and
// why.
func (p *Plan) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tPLATFORM\tPLAN\tWHY")
	for _, it := range p.Items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.Target, it.Platform, verb(it), why(it, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, summary(p))
	return err
}

// WriteMarkdown writes the plan as a job summary: the count, then a
// table of what must be rebuilt.
func (p *Plan) WriteMarkdown(w io.Writer) error {
	fmt.Fprintf(w, "## lambdaimg plan\n\n%s\n", summary(p))
	items := p.Rebuild()
	if len(items) == 0 {
		return nil
	}
	fmt.Fprint(w, "\n| Target | Platform | Why |\n|---|---|---|\n")
	for _, it := range items {
		if _, err := fmt.Fprintf(w, "| %s | %s | %s |\n", it.Target, it.Platform, strings.ReplaceAll(why(it, "<br>"), "|", "\\|")); err != nil {
			return err
		}
	}
	return nil
}

func verb(it Item) string {
	if it.Rebuild {
		return "rebuild"
	}
	return "unchanged"
}

func why(it Item, sep string) string {
	if len(it.Reasons) == 0 {
		return "-"
	}
	parts := make([]string, len(it.Reasons))
	for i, r := range it.Reasons {
		parts[i] = r.Kind + ": " + r.Detail
	}
	return strings.Join(parts, sep)
}

func summary(p *Plan) string {
	n := len(p.Rebuild())
	if n == 0 {
		return fmt.Sprintf("Nothing to rebuild: %d image(s) checked.", len(p.Items))
	}
	return fmt.Sprintf("%d of %d image(s) to rebuild.", n, len(p.Items))
}
