package lint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mcroute/mcroute/compiler/jsonm"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/schema"
)

// Rule is one check: a stable identifier, the severity of its findings, a
// one-line summary and a documentation paragraph (what the rule catches,
// what happens at run time, what to do). Run reports findings through the
// Pass; it is nil for the rules whose findings come from loading the config
// (mcrouterjson.Decode, the JSONM preprocessor), which are listed so that
// their IDs are documented too.
type Rule struct {
	ID       string
	Severity diag.Severity
	Summary  string
	Doc      string
	Run      func(*Pass)
}

// Options configures Lint. The zero value runs every rule.
type Options struct {
	// Prior holds the diagnostics the loader already reported for this
	// config. The JSON Schema pass drops a violation at a config path or
	// source position that Prior already covers, so that a problem is
	// reported once.
	Prior diag.List
	// Disable lists rule IDs that are not run.
	Disable []string
}

// Rules returns every rule, sorted by ID: the lint rules (with a Run) and
// the loader's rules (Run nil). Each call returns a fresh slice.
func Rules() []Rule {
	rules := append(lintRules(), loaderRules()...)
	slices.SortFunc(rules, func(a, b Rule) int { return strings.Compare(a.ID, b.ID) })
	return rules
}

// Lookup returns the rule with the given ID.
func Lookup(id string) (Rule, bool) {
	for _, r := range Rules() {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// Lint runs the rules on cfg and returns their findings, sorted. raw is the
// macro-expanded JSON the config was decoded from; it enables the JSON
// Schema pass and exact positions of pool options, and may be nil (CUE
// policies). cfg may be nil when the input could not be decoded; then only
// the schema pass runs.
func Lint(cfg *schema.Config, raw *jsonm.Value, opts Options) diag.List {
	var out diag.List
	a := newAnalysis(cfg, raw)
	for _, r := range lintRules() {
		if r.Run == nil || slices.Contains(opts.Disable, r.ID) {
			continue
		}
		if cfg == nil && r.ID != RuleSchema {
			continue
		}
		p := &Pass{Config: a.cfg, Raw: raw, rule: r, a: a, out: &out, prior: opts.Prior}
		r.Run(p)
	}
	out.Sort()
	return out
}

// Combine returns the loader's findings and the linter's as one sorted
// list, as `mcroute lint` prints them. A finding the loader reports twice
// (the same file, rule, config path and message at two positions, such as
// an unknown option at its key and at its value) is kept once, at the
// earlier position.
func Combine(loaded, found diag.List) diag.List {
	all := append(append(diag.List(nil), loaded...), found...)
	all.Sort()
	type key struct{ file, rule, path, msg string }
	seen := map[key]bool{}
	out := all[:0]
	for _, d := range all {
		if d.Path != "" {
			k := key{d.Pos.File, d.Rule, d.Path, d.Message}
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		out = append(out, d)
	}
	return out
}

// Pass is what a rule's Run receives: the config, the raw JSON (or nil),
// and the shared static analysis of the route graph.
type Pass struct {
	// Config is the route graph; never nil (an empty Config when the input
	// could not be decoded).
	Config *schema.Config
	// Raw is the macro-expanded JSON, nil for CUE policies.
	Raw *jsonm.Value

	rule  Rule
	a     *analysis
	out   *diag.List
	prior diag.List
}

// Reportf adds a finding of the running rule, with its severity, at pos;
// path is the config path of the offending value ("pools.A.servers[1]").
func (p *Pass) Reportf(pos schema.Pos, path, format string, args ...any) {
	p.report(p.rule.Severity, pos, path, fmt.Sprintf(format, args...))
}

// reportNode reports a finding about the route r that concerns the
// operations ops (0: r as a whole) where analysis.at puts it.
func (p *Pass) reportNode(r schema.Route, ops opSet, format string, args ...any) {
	pos, path := p.a.at(r, ops)
	p.Reportf(pos, path, format, args...)
}

func (p *Pass) report(sev diag.Severity, pos schema.Pos, path, msg string) {
	*p.out = append(*p.out, diag.Diagnostic{Pos: pos, Severity: sev, Rule: p.rule.ID, Message: msg, Path: path})
}

// Path returns the config path where r is written ("route.children[1]",
// "named_handles.x"), or "" if r is not part of the config.
func (p *Pass) Path(r schema.Route) string { return p.a.path[r] }

// Resolve follows references to named handles and returns the definition
// (r itself if it is not a reference, nil if the name is undefined).
func (p *Pass) Resolve(r schema.Route) schema.Route { return p.a.resolve(r) }

// Ops returns the names of the operations that can reach r from the top of
// the config, in mcrouter's order.
func (p *Pass) Ops(r schema.Route) []string { return p.a.reach[p.a.resolve(r)].names() }

// fieldPos returns the position of the text at a config path in the raw
// JSON (the value, or the short-form string the path leads into), or def
// when there is no raw JSON or no such value.
func (p *Pass) fieldPos(path string, def schema.Pos) schema.Pos {
	if p.Raw == nil {
		return def
	}
	if pos, ok := p.a.posAt(path); ok {
		return pos
	}
	return def
}

func toPos(p jsonm.Pos) schema.Pos { return schema.Pos{File: p.File, Line: p.Line, Col: p.Col} }
