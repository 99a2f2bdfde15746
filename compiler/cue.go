package compiler

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"sort"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/load"
	"cuelang.org/go/cue/parser"

	"github.com/mcroute/mcroute/compiler/jsonm"
	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/internal/suggest"
	"github.com/mcroute/mcroute/schema"
)

// cueCompiler holds the state of one compilation of a CUE policy. Its
// stages run in order; each adds diagnostics and says whether the next can
// run.
type cueCompiler struct {
	opts  Options
	path  string // as given
	dir   string // absolute directory of the package
	isDir bool
	info  *schemaInfo

	// pkg is the package name of the policy's files ("" when a single
	// file has no package clause).
	pkg string
	// files are the policy's .cue files (absolute paths), sorted.
	files []string
	// overlay maps the absolute names of the schema files added to the
	// policy's package to their base names.
	overlay map[string]string

	cctx *cue.Context
	inst *build.Instance
	user cue.Value // the policy as written
	pol  cue.Value // the policy unified with #Policy
	ix   *posIndex

	cfg   *schema.Config
	diags diag.List
	res   *Result
}

type stage struct {
	name string
	run  func() (bool, error)
}

// loadCUE compiles a CUE policy: a directory holding a package, or one .cue
// file.
func loadCUE(ctx context.Context, path string, isDir bool, opts Options) (*Result, error) {
	info := loadSchemaInfo()
	if info.err != nil {
		return nil, fmt.Errorf("compiler: embedded schema: %w", info.err)
	}
	c := &cueCompiler{opts: opts, path: path, isDir: isDir, info: info, res: &Result{Format: FormatCUE}}
	stages := []stage{
		{"read", c.read},           // find the package's files and name
		{"load", c.load},           // parse, with the schema added to the package
		{"names", c.checkNames},    // no redefinition of the schema's names
		{"build", c.build},         // evaluate the policy as written
		{"index", c.index},         // positions of literal values
		{"validate", c.validate},   // unify with #Policy, validate, decode
		{"check", c.checkPools},    // what the schema cannot say
		{"discovery", c.discovery}, // what mcrouter JSON cannot say
	}
	for _, s := range stages {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ok, err := c.protect(s)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
	}
	c.res.Config = c.cfg
	c.res.Diagnostics = unique(c.diags)
	return c.res, nil
}

// protect runs a stage, turning a panic of the CUE evaluator into an
// internal-error diagnostic: a policy must never crash the caller.
func (c *cueCompiler) protect(s stage) (ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.diags = append(c.diags, diag.Diagnostic{Severity: diag.Error, Rule: RuleInternal,
				Message: fmt.Sprintf("internal error in stage %s: %v\n%s", s.name, r, debug.Stack())})
			ok, err = false, nil
		}
	}()
	return s.run()
}

// read finds the policy's files and package name and reads them.
func (c *cueCompiler) read() (bool, error) {
	abs, err := filepath.Abs(c.path)
	if err != nil {
		return false, fmt.Errorf("load policy: %w", err)
	}
	var texts [][]byte
	if !c.isDir {
		c.dir = filepath.Dir(abs)
		b, err := os.ReadFile(abs)
		if err != nil {
			return false, fmt.Errorf("load policy: %w", err)
		}
		c.files = []string{abs}
		texts = append(texts, b)
		c.pkg = packageName(abs, b)
	} else {
		c.dir = abs
		entries, err := os.ReadDir(abs)
		if err != nil {
			return false, fmt.Errorf("load policy: %w", err)
		}
		pkgFiles := map[string][]string{}
		var names []string
		for _, e := range entries {
			n := e.Name()
			if e.IsDir() || filepath.Ext(n) != ".cue" || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") || strings.HasSuffix(n, "_tool.cue") {
				continue
			}
			p := filepath.Join(abs, n)
			b, err := os.ReadFile(p)
			if err != nil {
				return false, fmt.Errorf("load policy: %w", err)
			}
			pkg := packageName(p, b)
			if pkg == "" {
				continue // the loader ignores files without a package clause
			}
			if _, ok := pkgFiles[pkg]; !ok {
				names = append(names, pkg)
			}
			pkgFiles[pkg] = append(pkgFiles[pkg], p)
			c.files = append(c.files, p)
			texts = append(texts, b)
		}
		switch len(names) {
		case 0:
			c.diags.Errorf(schema.Pos{File: abs}, RuleLoad, "no CUE package in %s: a policy directory holds .cue files with a package clause", c.path)
			return false, nil
		case 1:
			c.pkg = names[0]
		default:
			sort.Strings(names)
			c.diags.Errorf(schema.Pos{File: pkgFiles[names[1]][0], Line: 1, Col: 1}, RuleLoad,
				"%s holds files of several packages (%s): a policy is one package", c.path, strings.Join(names, ", "))
			return false, nil
		}
	}
	for _, f := range schema.CUEFiles() {
		p := filepath.Join(c.dir, schemaPrefix+f.Name)
		if _, err := os.Stat(p); err == nil {
			c.diags.Errorf(schema.Pos{File: p}, RuleLoad, "file name %s is reserved for mcroute's definitions", filepath.Base(p))
			return false, nil
		}
	}
	c.res.Text = bytes.Join(texts, nil)
	c.res.Sources = append([]string(nil), c.files...)
	return true, nil
}

// packageName returns the package clause's name of a CUE file, or "".
func packageName(name string, src []byte) string {
	f, err := parser.ParseFile(name, src, parser.PackageClauseOnly)
	if err != nil {
		return ""
	}
	return f.PackageName()
}

var tagRE = regexp.MustCompile(`@tag\(\s*([A-Za-z_][A-Za-z0-9_\-]*)`)

// load parses the policy with the schema's files added to its package.
func (c *cueCompiler) load() (bool, error) {
	c.overlay = map[string]string{}
	ov := map[string]load.Source{}
	for _, f := range c.info.files {
		src := f.Source
		clause := "package " + schema.CUEPackage
		repl := ""
		if c.pkg != "" {
			repl = "package " + c.pkg
		}
		src = bytes.Replace(src, []byte(clause), []byte(repl), 1)
		p := filepath.Join(c.dir, schemaPrefix+f.Name)
		ov[p] = load.FromBytes(src)
		c.overlay[p] = f.Name
	}
	cfg := &load.Config{Dir: c.dir, Overlay: ov}
	// Params set @tag fields; the loader rejects tags nothing declares.
	if len(c.opts.Params) > 0 {
		declared := map[string]bool{}
		for _, m := range tagRE.FindAllSubmatch(c.res.Text, -1) {
			declared[string(m[1])] = true
		}
		keys := make([]string, 0, len(c.opts.Params))
		for k := range c.opts.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if declared[k] {
				cfg.Tags = append(cfg.Tags, k+"="+c.opts.Params[k])
			}
		}
	}
	args := []string{"."}
	if !c.isDir {
		args = append([]string{c.files[0]}, slices.Sorted(maps.Keys(c.overlay))...)
	}
	insts := load.Instances(args, cfg)
	if len(insts) != 1 {
		return false, fmt.Errorf("compiler: loading %s gave %d instances", c.path, len(insts))
	}
	c.inst = insts[0]
	if c.inst.Err != nil {
		c.addCUEErrors(c.inst.Err, RuleSyntax)
		return false, nil
	}
	// Watch the files the package imports too.
	seen := map[string]bool{}
	var walk func(*build.Instance)
	walk = func(in *build.Instance) {
		for _, imp := range in.Imports {
			if seen[imp.ImportPath] {
				continue
			}
			seen[imp.ImportPath] = true
			for _, f := range imp.BuildFiles {
				if _, isSchema := c.overlay[f.Filename]; !isSchema && f.Filename != "" {
					c.res.Sources = append(c.res.Sources, f.Filename)
				}
			}
			walk(imp)
		}
	}
	walk(c.inst)
	return true, nil
}

// isSchema reports whether a file name is one of the schema files added to
// the policy.
func (c *cueCompiler) isSchema(name string) bool {
	_, ok := c.overlay[name]
	return ok
}

// addCUEErrors reports CUE errors that are not about the policy's
// configuration (syntax, imports), at their first position.
func (c *cueCompiler) addCUEErrors(err error, rule string) {
	for _, e := range cueerrors.Errors(err) {
		var pos schema.Pos
		for _, p := range cueerrors.Positions(e) {
			if sp := toPos(p); sp.IsValid() && !c.isSchema(sp.File) {
				pos = sp
				break
			}
		}
		f, a := e.Msg()
		msg := fmt.Sprintf(f, a...)
		if p := e.Path(); len(p) > 0 {
			msg = strings.Join(p, ".") + ": " + msg
		}
		r := rule
		if !pos.IsValid() {
			r = RuleLoad
		}
		c.diags = append(c.diags, diag.Diagnostic{Pos: pos, Severity: diag.Error, Rule: r, Message: msg})
	}
}

// checkNames reports policies that define one of the schema's names: CUE
// would unify the two definitions, silently changing the language.
func (c *cueCompiler) checkNames() (bool, error) {
	ok := true
	for _, f := range c.inst.Files {
		if c.isSchema(f.Filename) {
			continue
		}
		for _, d := range f.Decls {
			fd, isField := d.(*ast.Field)
			if !isField {
				continue
			}
			name, isIdent, err := ast.LabelName(fd.Label)
			if err != nil || !isIdent || !c.info.defs[name] {
				continue
			}
			c.diags = append(c.diags, diag.Diagnostic{Pos: toPos(fd.Label.Pos()), Severity: diag.Error, Rule: RuleRedefinition,
				Message: fmt.Sprintf("%s is a definition of the mcroute policy language; give yours another name", name)})
			ok = false
		}
	}
	return ok, nil
}

// build evaluates the policy as written.
func (c *cueCompiler) build() (bool, error) {
	c.cctx = cuecontext.New()
	c.user = c.cctx.BuildInstance(c.inst)
	if !c.user.LookupPath(cue.MakePath(cue.Def("#Policy"))).Exists() {
		// The package as a whole failed to evaluate.
		if err := c.user.Err(); err != nil {
			c.addCUEErrors(err, RuleSyntax)
		} else {
			c.diags.Errorf(schema.Pos{File: c.files[0]}, RuleLoad, "the policy does not evaluate to a struct")
		}
		return false, nil
	}
	return true, nil
}

// index records the positions of the policy's literal values.
func (c *cueCompiler) index() (bool, error) {
	c.ix = newPosIndex(c.user, c.isSchema)
	for _, f := range c.inst.Files {
		if !c.isSchema(f.Filename) {
			c.ix.addFile(f)
		}
	}
	return true, nil
}

// decode runs mcrouterjson.Decode on an exported policy and makes its
// terser messages say which field they are about.
func (c *cueCompiler) decode(root *jsonm.Value) (*schema.Config, diag.List) {
	cfg, ds := mcrouterjson.Decode(root, c.decodeOptions())
	for i := range ds {
		d := &ds[i]
		if d.Path != "" && strings.HasPrefix(d.Message, "want ") {
			d.Message = d.Path + ": " + d.Message
		}
		// Point at the type of a route whose type is wrong.
		if d.Rule == mcrouterjson.RuleUnknownType || d.Rule == mcrouterjson.RulePrefixSelectorNotOn {
			if p, ok := c.ix.lit[joinKey(d.Path, "type")]; ok {
				d.Pos = p
			}
		}
	}
	return cfg, ds
}

func (c *cueCompiler) decodeOptions() mcrouterjson.DecodeOptions {
	return mcrouterjson.DecodeOptions{Dialect: mcrouterjson.Policy, PosOf: c.ix.PosOf, RoutePrefix: c.opts.RoutePrefix}
}

// validate unifies the policy with #Policy, validates it and decodes its
// JSON export into the route graph. When validation fails it also decodes
// what it can of the policy as written, so that every problem is reported
// in one run despite CUE reporting some kinds of errors only once others
// are fixed.
func (c *cueCompiler) validate() (bool, error) {
	def := c.user.LookupPath(cue.MakePath(cue.Def("#Policy")))
	// routes is a list or a table; a disjunction of the two would hide
	// the errors inside it, so apply the one the policy uses.
	if r := c.user.LookupPath(cue.ParsePath("routes")); r.Exists() {
		form := "#RouteTable"
		if k := r.IncompleteKind(); k&cue.ListKind != 0 && k&cue.StructKind == 0 {
			form = "#RouteList"
		}
		def = def.FillPath(cue.ParsePath("routes"), c.user.LookupPath(cue.MakePath(cue.Def(form))))
	}
	c.pol = def.Unify(c.user)
	err := c.pol.Validate(cue.Concrete(true))
	if err == nil {
		root, xerr := exportJSON(c.pol)
		if xerr == nil {
			cfg, ds := c.decode(root)
			c.cfg = cfg
			c.diags = append(c.diags, ds...)
			return cfg != nil, nil
		}
		err = xerr
	}
	c.slowPath(err)
	return c.cfg != nil, nil
}

// slowPath reports the errors of a policy that failed validation.
func (c *cueCompiler) slowPath(err error) {
	c.ix.scan()
	t := &translator{ix: c.ix, info: c.info, pol: c.pol}
	tr := t.translate(err)

	// The policy as written, with the names of named handles filled in
	// as #Policy would.
	names := c.cctx.CompileString(`named_handles?: [N=string]: {name: N}`)
	raw := c.user.Unify(names)
	cyclic := map[string]bool{}
	for _, cyc := range c.ix.handleCycles() {
		for _, n := range cyc {
			cyclic[n] = true
		}
	}
	root, skipped := exportLenient(raw, cyclic)
	for _, path := range slices.Sorted(maps.Keys(skipped)) {
		serr := skipped[path]
		if serr != nil {
			tr.add(t.translate(serr))
		} else if path != "" {
			tr.diags = append(tr.diags, diag.Diagnostic{Pos: c.ix.PosOf(path), Severity: diag.Error, Rule: RuleIncomplete, Path: path,
				Message: path + " is not concrete: give it a value"})
		}
	}
	// A reference to a named handle that does not exist may be hidden by
	// other errors in CUE's reports: check them all.
	refs := make([]schema.Pos, 0, len(c.ix.refs))
	for pos := range c.ix.refs {
		refs = append(refs, pos)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].String() < refs[j].String() })
	for _, pos := range refs {
		name := c.ix.refs[pos]
		if _, ok := c.ix.handles[name]; ok {
			continue
		}
		if c.user.LookupPath(cue.MakePath(cue.Str("named_handles"), cue.Str(name))).Exists() {
			continue
		}
		tr.diags = append(tr.diags, diag.Diagnostic{Pos: pos, Severity: diag.Error, Rule: mcrouterjson.RuleUnknownHandle,
			Message: fmt.Sprintf("unknown named handle %q%s", name, suggest.Hint(name, c.ix.handleNames()))})
	}
	tr.dropUnderParams()
	var decoded diag.List
	if root != nil && root.Kind == jsonm.Object {
		c.cfg, decoded = c.decode(root)
	}
	c.diags = append(c.diags, merge(tr, decoded, skipped, c.ix)...)
}

// merge combines the diagnostics translated from CUE with those of Decode
// on the policy as written, keeping one report per problem: the more
// specific one, which is Decode's when both report the same path.
func merge(tr translation, decoded diag.List, skipped map[string]error, ix *posIndex) diag.List {
	cueD := tr.diags
	if tr.cycles {
		if cycles := ix.handleCycles(); len(cycles) > 0 {
			kept := cueD[:0:0]
			for _, d := range cueD {
				if d.Rule != RuleStructuralCycle {
					kept = append(kept, d)
				}
			}
			cueD = kept
			for _, cyc := range cycles {
				cueD = append(cueD, diag.Diagnostic{Pos: ix.handles[cyc[0]], Severity: diag.Error, Rule: mcrouterjson.RuleHandleCycle,
					Path: joinKey("named_handles", cyc[0]), Message: "named handles form a cycle: " + strings.Join(cyc, " -> ")})
			}
		}
	}
	var dec diag.List
	for _, e := range decoded {
		if underAny(e.Path, skipped) {
			// Decode saw a placeholder for a value CUE rejected.
			continue
		}
		if e.Rule == mcrouterjson.RuleMissingRoute {
			_, route := skipped["route"]
			_, routes := skipped["routes"]
			if route || routes {
				continue
			}
		}
		if e.Rule == mcrouterjson.RuleRequiredField || e.Message == "a single route is required here, but this is empty" {
			drop := false
			for _, d := range cueD {
				if d.Path != "" && isUnder(d.Path, e.Path) && (d.Path != e.Path || strings.HasPrefix(d.Message, "missing template parameter")) {
					drop = true
					break
				}
			}
			for p := range skipped {
				if pp, ok := parentPath(p); ok && pp == e.Path {
					drop = true
					break
				}
			}
			if drop {
				continue
			}
		}
		dec = append(dec, e)
	}
	out := append(diag.List(nil), dec...)
	for _, d := range cueD {
		drop := false
		if d.Path != "" && d.Rule != mcrouterjson.RuleHandleCycle {
			for _, e := range dec {
				if e.Severity != diag.Error {
					continue
				}
				// Decode's report is at least as precise; and what is
				// inside an unknown key or type is moot.
				if isUnder(e.Path, d.Path) || unknownKeyRules[e.Rule] && isUnder(d.Path, e.Path) {
					drop = true
					break
				}
			}
		}
		if !drop {
			out = append(out, d)
		}
	}
	return unique(out)
}

// unknownKeyRules are the rules of Decode's reports about a key or type
// that should not be there.
var unknownKeyRules = map[string]bool{
	mcrouterjson.RuleUnknownTopLevel:  true,
	mcrouterjson.RuleUnknownField:     true,
	mcrouterjson.RuleUnknownOperation: true,
	mcrouterjson.RuleUnknownType:      true,
	mcrouterjson.RuleInvalidPrefix:    true,
}

func underAny(path string, set map[string]error) bool {
	if len(set) == 0 {
		return false
	}
	if _, ok := set[path]; ok {
		return true
	}
	for p := range set {
		if isUnder(path, p) {
			return true
		}
	}
	return false
}

// unique removes diagnostics that say the same thing at the same place,
// whatever their config path.
func unique(l diag.List) diag.List {
	type key struct {
		pos       schema.Pos
		sev       diag.Severity
		rule, msg string
	}
	seen := map[key]bool{}
	out := l[:0]
	for _, d := range l {
		k := key{d.Pos, d.Severity, d.Rule, d.Message}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, d)
	}
	return out
}

// checkPools reports what the CUE schema leaves to the compiler (checking
// it in CUE costs much more for large policies): one weight per server,
// servers or discovery but not both.
func (c *cueCompiler) checkPools() (bool, error) {
	if c.cfg == nil {
		return false, nil
	}
	if !c.diags.HasErrors() {
		// Decode reads kinds that mcroute does not execute as Generic
		// routes; the policy language does not have them. (When the
		// policy has errors, CUE has reported them already.)
		schema.WalkConfig(c.cfg, func(r schema.Route) bool {
			if g, ok := r.(*schema.Generic); ok {
				c.diags = append(c.diags, diag.Diagnostic{Pos: g.Pos, Severity: diag.Error, Rule: mcrouterjson.RuleUnknownType,
					Message: fmt.Sprintf("route type %q is not available in mcroute policies", g.Type)})
			}
			return true
		})
	}
	for _, name := range c.cfg.PoolNames() {
		p := c.cfg.Pools[name]
		path := joinKey("pools", name)
		if p.Discovery != nil && len(p.Servers) > 0 {
			c.diags = append(c.diags, diag.Diagnostic{Pos: c.ix.PosOf(joinKey(path, "discovery")), Severity: diag.Error,
				Rule: mcrouterjson.RuleInvalidValue, Path: joinKey(path, "discovery"),
				Message: fmt.Sprintf("pool %s has both servers and discovery: give one", name)})
		}
		if p.Weights != nil && p.Discovery == nil && len(p.Weights) != len(p.Servers) {
			c.diags = append(c.diags, diag.Diagnostic{Pos: c.ix.PosOf(joinKey(path, "weights")), Severity: diag.Error,
				Rule: mcrouterjson.RuleInvalidValue, Path: joinKey(path, "weights"),
				Message: fmt.Sprintf("pool %s has %d servers but %d weights: give one weight per server", name, len(p.Servers), len(p.Weights))})
		}
	}
	return true, nil
}

// discovery warns about pools whose servers are found through DNS:
// mcrouter JSON cannot express that, so a compiled config lists no servers
// for them.
func (c *cueCompiler) discovery() (bool, error) {
	for _, name := range c.cfg.PoolNames() {
		p := c.cfg.Pools[name]
		if p.Discovery == nil {
			continue
		}
		path := joinKey(joinKey("pools", name), "discovery")
		c.diags = append(c.diags, diag.Diagnostic{Pos: c.ix.PosOf(path), Severity: diag.Warning, Rule: RuleDiscovery, Path: path,
			Message: fmt.Sprintf("pool %s finds its servers through DNS (%s), which mcrouter JSON cannot express: compiled mcrouter JSON lists no servers for it, and mcrouter answers its requests with errors; mcroute serve resolves the name", name, p.Discovery.Name)})
	}
	return true, nil
}
