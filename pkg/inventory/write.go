package inventory

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes c as indented JSON.
func (c *Changelog) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

// rows are the changelog's lines: what, name, old, new.
func (c *Changelog) rows() [][4]string {
	var rows [][4]string
	for _, x := range []struct {
		what string
		c    *Change
	}{{"base", c.Base}, {"ric", c.RIC}, {"rie", c.RIE}} {
		if x.c != nil {
			rows = append(rows, [4]string{x.what, "", orNone(x.c.Old), orNone(x.c.New)})
		}
	}
	for _, p := range c.Changed {
		what := "upgraded"
		if p.Downgrade {
			what = "downgraded"
		}
		rows = append(rows, [4]string{what, p.Name, p.Old, p.New})
	}
	for _, p := range c.Added {
		rows = append(rows, [4]string{"added", p.Name, "-", p.Version})
	}
	for _, p := range c.Removed {
		rows = append(rows, [4]string{"removed", p.Name, p.Version, "-"})
	}
	return rows
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func (c *Changelog) summary() string {
	return fmt.Sprintf("%d upgraded or downgraded, %d added, %d removed, %d unchanged", len(c.Changed), len(c.Added), len(c.Removed), c.Same)
}

// WriteTable writes c as aligned columns.
func (c *Changelog) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s -> %s\n", c.Old, c.New)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANGE\tNAME\tOLD\tNEW")
	for _, r := range c.rows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r[0], r[1], r[2], r[3])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "packages: %s\n", c.summary())
	return err
}

// WriteMarkdown writes c as a Markdown section, for a job summary or a
// release note.
func (c *Changelog) WriteMarkdown(w io.Writer) error {
	fmt.Fprintf(w, "### `%s`\n\nfrom `%s`\n\n", c.New, c.Old)
	if c.Empty() {
		_, err := fmt.Fprintln(w, "Nothing changed.")
		return err
	}
	fmt.Fprintln(w, "| change | name | old | new |\n|---|---|---|---|")
	for _, r := range c.rows() {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r[0], mdCode(r[1]), mdCode(r[2]), mdCode(r[3]))
	}
	_, err := fmt.Fprintf(w, "\nPackages: %s.\n", c.summary())
	return err
}

func mdCode(s string) string {
	if s == "" || s == "-" {
		return s
	}
	return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
}
