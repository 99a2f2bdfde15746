package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/mcroute/mcroute/compiler"
	"github.com/mcroute/mcroute/compiler/jsonm"
	"github.com/mcroute/mcroute/compiler/lint"
	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/internal/suggest"
)

// lintCmd is `mcroute lint`. Findings go to standard output in every
// format (text included, so that `mcroute lint ... > report` captures
// them); the text format adds a summary line on standard error. Exit codes:
// 0 no error (warnings and infos allowed unless --strict), 1 findings, 2
// usage or I/O error.
type lintCmd struct {
	Files   []string          `arg:"" optional:"" name:"file" help:"CUE policies (.cue) and mcrouter JSON configs (.json), or directories: linted recursively, each directory of .cue files as one CUE package and each .json file on its own. With --explain: a rule ID."`
	Format  string            `short:"f" enum:"text,json,sarif,github" default:"text" help:"Output format: ${enum}."`
	Strict  bool              `help:"Fail (exit 1) on warnings too; infos never fail."`
	Explain bool              `help:"Print the documentation of the rule given as argument, or list every rule."`
	Params  map[string]string `name:"param" placeholder:"NAME=VALUE" help:"A JSONM global param of mcrouter JSON inputs (as mcrouter's --config-params), or a @tag(NAME) value of CUE policies (repeatable)."`
}

// Help is the long help of `mcroute lint --help`.
func (c *lintCmd) Help() string {
	return `Lint loads each config as compile does and reports what loads fine but routes
badly: writes fanned out to every server of a pool, deletes whose failures are
never reported, replicas that hash differently, unreachable policies, unused
pools, and more. mcrouter JSON inputs are also validated against the JSON
Schema of mcrouter configs. "mcroute lint --explain" lists every rule;
"mcroute lint --explain RULE" documents one.

A directory is linted recursively (lexical order; subdirectories named
.*, _* and testdata are skipped): each directory holding .cue files is one
CUE package, and every .json file (but *.schema.json) is an mcrouter config
linted on its own.

Findings go to standard output in every format; the text format
("file:line:col: severity: message [rule]", paths relative to the working
directory) adds a summary line on standard error. json, sarif (SARIF 2.1.0,
for code scanning) and github (workflow-command annotations) are meant for
CI.

Exit codes: 0 no errors (warnings allowed unless --strict; infos never
fail), 1 findings, 2 usage or I/O error.`
}

func (c *lintCmd) Run(ctx context.Context, e *env) error {
	if c.Explain {
		return c.explain(e)
	}
	if len(c.Files) == 0 {
		fmt.Fprintln(e.stderr, "mcroute lint: no file given (see mcroute lint --help)")
		return exitError(exitUsage)
	}
	inputs, skipped, err := lintInputs(c.Files)
	if err != nil {
		fmt.Fprintln(e.stderr, "mcroute lint:", err)
		return exitError(exitUsage)
	}
	for _, path := range skipped {
		fmt.Fprintf(e.stderr, "mcroute lint: skipping %s: not an mcrouter config (no route, routes or pools; name the file to lint it anyway)\n", relPath(e, path))
	}
	var all diag.List
	for _, in := range inputs {
		ds, err := c.lintOne(ctx, in)
		if err != nil {
			fmt.Fprintln(e.stderr, "mcroute lint:", err)
			return exitError(exitUsage)
		}
		all = append(all, ds...)
	}
	all.Relative(e.dir)
	all.Sort()
	if err := lint.Format(e.stdout, c.Format, all, lint.FormatOptions{Files: len(inputs), Version: versionString()}); err != nil {
		return err
	}
	sum := lint.Summarize(all, len(inputs))
	if c.Format == "text" {
		fmt.Fprintln(e.stderr, sum)
	}
	if sum.Errors > 0 || c.Strict && sum.Warnings > 0 {
		return exitError(exitFindings)
	}
	return nil
}

// lintInput is one unit of linting: a JSON file, or a CUE file or package
// directory.
type lintInput struct {
	path string
	cue  bool
}

// lintInputs expands the arguments. A file is one input. A directory is
// walked recursively, in lexical order, as a CI job over a tree of configs
// needs: each directory holding .cue files is one CUE package, and every
// .json file is an mcrouter config linted on its own, except JSON Schema
// documents (*.schema.json, such as a Helm chart's values.schema.json).
// Directories whose names start with "." or "_", and testdata directories,
// are skipped below the directory given (name them to lint them), and so
// are JSON files that are certainly not mcrouter configs (foreignJSON),
// which are returned in skipped. A directory with nothing to lint is an
// error.
func lintInputs(args []string) (inputs []lintInput, skipped []string, err error) {
	var out []lintInput
	for _, arg := range args {
		fi, err := os.Stat(arg)
		if err != nil {
			return nil, nil, err
		}
		if !fi.IsDir() {
			out = append(out, lintInput{path: arg, cue: strings.HasSuffix(arg, ".cue")})
			continue
		}
		n := len(out)
		err = filepath.WalkDir(arg, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				if name := d.Name(); strings.HasSuffix(name, ".json") && !strings.HasSuffix(name, ".schema.json") && d.Type().IsRegular() {
					if foreignJSON(path) {
						skipped = append(skipped, path)
						return nil
					}
					out = append(out, lintInput{path: path})
				}
				return nil
			}
			if name := d.Name(); path != arg && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata") {
				return filepath.SkipDir
			}
			if cues, _ := filepath.Glob(filepath.Join(path, "*.cue")); len(cues) > 0 {
				out = append(out, lintInput{path: path, cue: true})
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		if len(out) == n {
			return nil, nil, fmt.Errorf("%s: no .cue or .json files", arg)
		}
	}
	return out, skipped, nil
}

// mcrouterKeys are the top-level keys of which an mcrouter config (or a
// JSONM file that expands to one) has at least one.
var mcrouterKeys = [...]string{"route", "routes", "pools", "named_handles", "macros", "vars", "routing_options"}

// foreignJSON reports whether the JSON(C) file at path is certainly not an
// mcrouter config: an object with none of mcrouterKeys (a Grafana
// dashboard, a package.json). Files that do not parse are not foreign: lint
// reports their syntax errors.
func foreignJSON(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	v, err := jsonm.Parse(path, b)
	if err != nil || v == nil || v.Kind != jsonm.Object {
		return false
	}
	for _, k := range mcrouterKeys {
		if v.Member(k) != nil {
			return false
		}
	}
	return true
}

// lintOne loads one input and returns the loader's findings followed by
// the linter's. The error is for inputs that cannot be read at all.
func (c *lintCmd) lintOne(ctx context.Context, in lintInput) (diag.List, error) {
	if !in.cue {
		l, err := mcrouterjson.Load(in.path, mcrouterjson.LoadOptions{Params: c.Params})
		if err != nil {
			return nil, err
		}
		return lint.Combine(l.Diagnostics, lint.Lint(l.Config, l.Expanded, lint.Options{Prior: l.Diagnostics})), nil
	}
	res, err := compiler.Load(ctx, in.path, compiler.Options{Params: c.Params})
	var found diag.List
	if err != nil && !errors.As(err, &found) {
		return nil, err
	}
	if res == nil {
		// Compile errors are findings, not a failure to lint.
		return found, nil
	}
	return lint.Combine(res.Diagnostics, lint.Lint(res.Config, nil, lint.Options{Prior: res.Diagnostics})), nil
}

func (c *lintCmd) explain(e *env) error {
	rules := lint.Rules()
	switch len(c.Files) {
	case 0:
		tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
		for _, r := range rules {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Severity, r.Summary)
		}
		return tw.Flush()
	case 1:
	default:
		fmt.Fprintln(e.stderr, "mcroute lint: --explain takes at most one rule ID")
		return exitError(exitUsage)
	}
	r, ok := lint.Lookup(c.Files[0])
	if !ok {
		ids := make([]string, len(rules))
		for i, r := range rules {
			ids[i] = r.ID
		}
		fmt.Fprintf(e.stderr, "mcroute lint: unknown rule %q%s; mcroute lint --explain lists them\n", c.Files[0], suggest.Hint(c.Files[0], ids))
		return exitError(exitUsage)
	}
	source := "lint"
	if r.Run == nil {
		source = "reported while loading the config"
	}
	fmt.Fprintf(e.stdout, "%s (%s, %s)\n\n%s.\n\n%s\n", r.ID, r.Severity, source, lintCapitalize(r.Summary), lintWrap(r.Doc, 78))
	return nil
}

func lintCapitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// lintWrap breaks text into lines of at most width bytes at spaces.
func lintWrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(text) {
		if i > 0 {
			if n+1+len(w) > width {
				b.WriteByte('\n')
				n = 0
			} else {
				b.WriteByte(' ')
				n++
			}
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
