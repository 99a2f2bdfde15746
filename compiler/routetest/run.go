package routetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/mcroute/mcroute/compiler"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/schema"
)

// Options configure Run. The zero value runs every case and changes
// nothing.
type Options struct {
	// Update rewrites the expectations of failing cases and of cases
	// without any, in their test files, from what actually happens.
	Update bool
	// Match, when set, selects the cases to run by name.
	Match *regexp.Regexp
}

// Status is the outcome of a case.
type Status string

// The outcomes.
const (
	// StatusPass: every expectation holds.
	StatusPass Status = "pass"
	// StatusFail: an expectation does not hold, or the case has none.
	StatusFail Status = "fail"
	// StatusError: the case could not run (an unknown server).
	StatusError Status = "error"
	// StatusUpdated: the case failed (or had no expectations) and --update
	// rewrote them.
	StatusUpdated Status = "updated"
)

// Report is the result of Run.
type Report struct {
	Files   []*FileReport `json:"files"`
	Summary Summary       `json:"summary"`
}

// Summary counts the outcomes of a Report.
type Summary struct {
	Files   int `json:"files"`
	Cases   int `json:"cases"`
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Errors  int `json:"errors"`
	Updated int `json:"updated"`
}

// OK reports whether every case passed or was updated and no file had
// errors.
func (s Summary) OK() bool { return s.Failed == 0 && s.Errors == 0 }

// FileReport is the outcome of one test file.
type FileReport struct {
	// File is the test file, as found.
	File string `json:"file"`
	// Config is the policy it tests.
	Config string `json:"config,omitempty"`
	// Diagnostics are the file's problems, sorted: errors of the test
	// file or of its config (which keep every case from running), and
	// cases --update could not rewrite. Case errors are in the cases.
	Diagnostics diag.List `json:"diagnostics"`
	// Cases are the outcomes of the file's cases, in file order.
	Cases []*CaseResult `json:"cases"`
	// Updated is set when --update rewrote the file.
	Updated bool `json:"updated,omitempty"`
}

// Errored reports whether the file had errors that kept all of its cases
// from running.
func (f *FileReport) Errored() bool { return f.Diagnostics.HasErrors() && len(f.Cases) == 0 }

// CaseResult is the outcome of one case.
type CaseResult struct {
	Name   string     `json:"name"`
	Pos    schema.Pos `json:"pos"`
	Status Status     `json:"status"`
	// Op, Key, Down and Miss are the request.
	Op   string   `json:"op"`
	Key  string   `json:"key"`
	Down []string `json:"down,omitempty"`
	Miss []string `json:"miss,omitempty"`
	// Want are the expectations (before any update).
	Want *WantJSON `json:"want,omitempty"`
	// Got is what happened.
	Got *Explanation `json:"got,omitempty"`
	// Mismatch lists the expectations that do not hold.
	Mismatch []string `json:"mismatch,omitempty"`
	// Diff is a unified diff of expected and actual values, one block per
	// mismatched field.
	Diff string `json:"diff,omitempty"`
	// Message says why the case failed or could not run.
	Message string `json:"message,omitempty"`
	// Errors are the problems that kept the case from running.
	Errors diag.List `json:"errors,omitempty"`
}

// WantJSON is the JSON form of a case's expectations.
type WantJSON struct {
	Destinations []string `json:"destinations,omitempty"`
	Reply        string   `json:"reply,omitempty"`
	Path         []string `json:"path,omitempty"`
}

// Request describes the case's request as mcroute explain would be asked:
// `get "user:42" down=[A[0]]`.
func (c *CaseResult) Request() string {
	var b strings.Builder
	b.WriteString(c.Op + " " + c.Key)
	if len(c.Down) > 0 {
		b.WriteString(" down=[" + strings.Join(c.Down, " ") + "]")
	}
	if len(c.Miss) > 0 {
		b.WriteString(" miss=[" + strings.Join(c.Miss, " ") + "]")
	}
	return b.String()
}

// FindFiles expands command-line arguments into test files: a file is
// itself; a directory means every *_test.cue in it; DIR/... means every
// *_test.cue under DIR (skipping directories whose names start with "." or
// "_", and cue.mod). The result is in argument order, each file once.
func FindFiles(args []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, arg := range args {
		if dir, ok := strings.CutSuffix(filepath.ToSlash(arg), "/..."); ok {
			if dir == "" {
				dir = "."
			}
			dir = filepath.FromSlash(dir)
			var found []string
			err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.IsDir() {
					n := d.Name()
					if p != dir && (strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") || n == "cue.mod") {
						return filepath.SkipDir
					}
					return nil
				}
				if isTestFile(d.Name()) {
					found = append(found, p)
				}
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("find test files: %w", err)
			}
			if len(found) == 0 {
				return nil, fmt.Errorf("%s: no *_test.cue files", arg)
			}
			for _, p := range found {
				add(p)
			}
			continue
		}
		fi, err := os.Stat(arg)
		if err != nil {
			return nil, fmt.Errorf("find test files: %w", err)
		}
		if !fi.IsDir() {
			add(arg)
			continue
		}
		matches, err := filepath.Glob(filepath.Join(arg, "*_test.cue"))
		if err != nil {
			return nil, err
		}
		sort.Strings(matches)
		if len(matches) == 0 {
			return nil, fmt.Errorf("%s: no *_test.cue files", arg)
		}
		for _, p := range matches {
			add(p)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no test files given")
	}
	return out, nil
}

func isTestFile(name string) bool {
	return strings.HasSuffix(name, "_test.cue") && !strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "_")
}

// Run runs the test files found by FindFiles(args). Problems with test
// files, configs and cases are reported in the Report; the error is for
// arguments that name no test files and for I/O errors.
func Run(ctx context.Context, args []string, opts Options) (*Report, error) {
	files, err := FindFiles(args)
	if err != nil {
		return nil, err
	}
	r := &runner{opts: opts, explainers: map[string]*explainerEntry{}}
	defer r.close()
	rep := &Report{}
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fr, err := r.runFile(ctx, path)
		if err != nil {
			return nil, err
		}
		rep.Files = append(rep.Files, fr)
	}
	rep.Summary = summarize(rep.Files)
	return rep, nil
}

func summarize(files []*FileReport) Summary {
	s := Summary{Files: len(files)}
	for _, f := range files {
		if f.Errored() {
			s.Errors++
		}
		for _, c := range f.Cases {
			s.Cases++
			switch c.Status {
			case StatusPass:
				s.Passed++
			case StatusFail:
				s.Failed++
			case StatusError:
				s.Errors++
			case StatusUpdated:
				s.Updated++
			}
		}
	}
	return s
}

type runner struct {
	opts       Options
	explainers map[string]*explainerEntry
}

type explainerEntry struct {
	x     *Explainer
	diags diag.List
}

func (r *runner) close() {
	for _, e := range r.explainers {
		if e.x != nil {
			e.x.Close()
		}
	}
}

// explainer loads and builds the config of f, once per distinct config and
// settings.
func (r *runner) explainer(ctx context.Context, f *File) (*explainerEntry, error) {
	abs, err := filepath.Abs(f.Config)
	if err != nil {
		return nil, err
	}
	var params []string
	for k, v := range f.Params {
		params = append(params, k+"="+v)
	}
	sort.Strings(params)
	key := fmt.Sprintf("%s\x00%s\x00%s\x00%d", abs, strings.Join(params, "\x00"), f.RoutePrefix, f.HostID)
	if e, ok := r.explainers[key]; ok {
		return e, nil
	}
	e := &explainerEntry{}
	r.explainers[key] = e
	res, err := compiler.Load(ctx, f.Config, compiler.Options{Params: f.Params, RoutePrefix: f.RoutePrefix,
		HostID: cmp.Or(f.HostID, DefaultHostID)})
	if err != nil {
		var l diag.List
		if !errors.As(err, &l) {
			if ctx.Err() != nil {
				return nil, err
			}
			e.diags.Errorf(f.ConfigPos, RuleConfig, "config: %v", err)
			return e, nil
		}
		e.diags = append(e.diags, l...)
		e.diags.Errorf(f.ConfigPos, RuleConfig, "config %s has errors", f.Config)
		return e, nil
	}
	x, err := NewExplainer(res.Config, ExplainOptions{HostID: f.HostID, RoutePrefix: f.RoutePrefix})
	if err != nil {
		e.diags = append(e.diags, diag.AsList(err)...)
		e.diags.Errorf(f.ConfigPos, RuleConfig, "config %s: the route graph cannot be built", f.Config)
		return e, nil
	}
	e.x = x
	return e, nil
}

func (r *runner) runFile(ctx context.Context, path string) (*FileReport, error) {
	fr := &FileReport{File: path, Diagnostics: diag.List{}, Cases: []*CaseResult{}}
	f, err := Load(path)
	if err != nil {
		var l diag.List
		if !errors.As(err, &l) {
			return nil, err
		}
		fr.Diagnostics = l
		return fr, nil
	}
	fr.Config = f.Config
	e, err := r.explainer(ctx, f)
	if err != nil {
		return nil, err
	}
	if e.x == nil {
		fr.Diagnostics = append(fr.Diagnostics, e.diags...)
		fr.Diagnostics.Sort()
		return fr, nil
	}
	var updates []caseUpdate
	for _, c := range f.Cases {
		if r.opts.Match != nil && !r.opts.Match.MatchString(c.Name) {
			continue
		}
		cr := runCase(ctx, e.x, c)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fr.Cases = append(fr.Cases, cr)
		if r.opts.Update && cr.Status == StatusFail {
			updates = append(updates, newCaseUpdate(c, cr))
		}
	}
	if len(updates) > 0 {
		src, failed := f.update(updates)
		for _, u := range updates {
			if msg, bad := failed[u.name]; bad {
				fr.Diagnostics.Errorf(u.pos, RuleUpdate, "cases.%s: cannot update: %s", u.name, msg)
				continue
			}
			for _, cr := range fr.Cases {
				if cr.Name == u.name {
					cr.Status = StatusUpdated
					cr.Message = "updated " + strings.Join(u.fields.Names(), ", ")
				}
			}
			fr.Updated = true
		}
		if fr.Updated {
			if err := writeFile(path, src); err != nil {
				return nil, err
			}
		}
	}
	fr.Diagnostics.Sort()
	return fr, nil
}

// runCase runs one case and compares.
func runCase(ctx context.Context, x *Explainer, c *Case) *CaseResult {
	cr := &CaseResult{Name: c.Name, Pos: c.Pos, Op: c.Op.String(), Key: c.Key, Down: c.Down, Miss: c.Miss}
	if c.Want.Fields != 0 {
		cr.Want = &WantJSON{Destinations: c.Want.Destinations, Reply: c.Want.Reply, Path: c.Want.Path}
	}
	var diags diag.List
	var known []string
	for _, s := range x.Servers() {
		known = append(known, s.String())
	}
	check := func(field string, names []string, pos []schema.Pos) {
		for i, s := range names {
			if !x.Known(s) {
				diags.Errorf(pos[i], RuleUnknownServer, "cases.%s.%s: unknown server %q; known servers: %s",
					c.Name, field, s, strings.Join(known, ", "))
			}
		}
	}
	check("down", c.Down, c.downPos)
	check("miss", c.Miss, c.missPos)
	if len(diags) > 0 {
		cr.Status = StatusError
		cr.Errors = diags
		cr.Message = diags[0].Message
		return cr
	}
	got, err := x.Explain(ctx, c.Request())
	if err != nil {
		cr.Status = StatusError
		cr.Message = err.Error()
		return cr
	}
	cr.Got = got
	if c.Want.Fields == 0 {
		cr.Status = StatusFail
		cr.Message = "no expectations: give want.destinations, want.reply or want.path (mcroute test --update records them)"
		return cr
	}
	mismatch, diff := compare(c.Want, got)
	if mismatch == 0 {
		cr.Status = StatusPass
		return cr
	}
	cr.Status = StatusFail
	cr.Mismatch = mismatch.Names()
	cr.Diff = diff
	cr.Message = strings.Join(cr.Mismatch, ", ") + " differ"
	if mismatch == FieldReply || mismatch == FieldPath {
		cr.Message += "s"
	}
	return cr
}

// compare checks got against want and returns the fields that differ with a
// unified diff of each.
func compare(want Want, got *Explanation) (Fields, string) {
	var mismatch Fields
	var diff strings.Builder
	if want.Fields&FieldDestinations != 0 {
		g := gotDestinations(want.Destinations, got.Destinations)
		if d := unifiedDiff("destinations", want.Destinations, g); d != "" {
			mismatch |= FieldDestinations
			diff.WriteString(d)
		}
	}
	if want.Fields&FieldReply != 0 && want.Reply != got.Reply {
		mismatch |= FieldReply
		diff.WriteString(unifiedDiff("reply", []string{want.Reply}, []string{got.Reply}))
	}
	if want.Fields&FieldPath != 0 {
		if d := unifiedDiff("path", want.Path, got.Path); d != "" {
			mismatch |= FieldPath
			diff.WriteString(d)
		}
	}
	return mismatch, diff.String()
}

// gotDestinations renders the actual destinations in the form of the
// expected ones: without the address where the expectation at the same
// position has none.
func gotDestinations(want []string, got []Destination) []string {
	out := make([]string, len(got))
	for i, d := range got {
		if i < len(want) && !hasAddr(want[i]) {
			out[i] = d.Short()
		} else {
			out[i] = d.String()
		}
	}
	return out
}

func writeFile(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("update test file: %w", err)
	}
	return nil
}
