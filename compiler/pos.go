package compiler

import (
	"sort"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/token"

	"github.com/mcroute/mcroute/schema"
)

// posIndex maps config paths to positions in the policy's own files.
//
// Most values of a policy are written literally, so the index is built from
// the syntax trees of the user's files: every field label and list element
// reachable through struct and list literals (and through struct literals
// unified with &) gets the position where it is written. That covers
// policies of any size for the price of one walk of the syntax. Values that
// are computed (comprehensions, references, templates) are looked up in the
// evaluated policy instead, memoised step by step, and where even that
// yields no position in a user file the nearest enclosing value that has one
// is used.
type posIndex struct {
	// user is the policy's own value, without #Policy applied.
	user cue.Value
	// isSchema reports whether a file name is one of the schema files
	// added to the policy's package.
	isSchema func(string) bool
	// lit holds the positions of literal values, by config path.
	lit map[string]schema.Pos
	// memo holds the positions found for other paths.
	memo map[string]schema.Pos
	// vals memoises lookups in user, by config path.
	vals map[string]cue.Value

	// handles are the named handles defined literally, with the
	// position of their label.
	handles map[string]schema.Pos
	// handleRefs lists, per named handle, the handles its definition
	// refers to (named_handles.X).
	handleRefs map[string][]string
	// refs are every reference to a named handle, by position.
	refs map[schema.Pos]string
	// files are the syntax trees indexed; scanned is set once scan has
	// filled handles, handleRefs and refs from them.
	files   []*ast.File
	scanned bool
}

func newPosIndex(user cue.Value, isSchema func(string) bool) *posIndex {
	return &posIndex{
		user:       user,
		isSchema:   isSchema,
		lit:        map[string]schema.Pos{},
		memo:       map[string]schema.Pos{},
		vals:       map[string]cue.Value{},
		handles:    map[string]schema.Pos{},
		handleRefs: map[string][]string{},
		refs:       map[schema.Pos]string{},
	}
}

func toPos(p token.Pos) schema.Pos {
	if !p.IsValid() {
		return schema.Pos{}
	}
	return schema.Pos{File: p.Filename(), Line: p.Line(), Col: p.Column()}
}

// isUserPos reports whether p is a valid position in one of the policy's
// files.
func (ix *posIndex) isUserPos(p schema.Pos) bool {
	return p.IsValid() && p.File != "" && !ix.isSchema(p.File)
}

// addFile indexes one of the policy's files. The first file added gives
// the position of the policy as a whole.
func (ix *posIndex) addFile(f *ast.File) {
	if _, ok := ix.lit[""]; !ok {
		ix.lit[""] = schema.Pos{File: f.Filename, Line: 1, Col: 1}
	}
	ix.decls("", f.Decls)
	ix.files = append(ix.files, f)
}

// scan records the named handles and the references to them, once; only
// error reports need them.
func (ix *posIndex) scan() {
	if ix.scanned {
		return
	}
	ix.scanned = true
	for _, f := range ix.files {
		ix.scanHandles(f)
	}
}

func (ix *posIndex) set(path string, p token.Pos) {
	if _, ok := ix.lit[path]; !ok && p.IsValid() {
		ix.lit[path] = toPos(p)
	}
}

// regularLabel returns the name of a regular field's label, or false for
// definitions, hidden fields, pattern constraints and dynamic labels.
func regularLabel(l ast.Label) (string, bool) {
	name, isIdent, err := ast.LabelName(l)
	if err != nil {
		return "", false
	}
	if isIdent && (strings.HasPrefix(name, "#") || strings.HasPrefix(name, "_")) {
		return "", false
	}
	return name, true
}

func (ix *posIndex) decls(path string, decls []ast.Decl) {
	for _, d := range decls {
		switch x := d.(type) {
		case *ast.Field:
			name, ok := regularLabel(x.Label)
			if !ok {
				continue
			}
			p := joinKey(path, name)
			ix.set(p, x.Label.Pos())
			ix.expr(p, x.Value)
		case *ast.EmbedDecl:
			ix.expr(path, x.Expr)
		}
	}
}

func (ix *posIndex) expr(path string, e ast.Expr) {
	switch x := e.(type) {
	case *ast.StructLit:
		ix.decls(path, x.Elts)
	case *ast.ListLit:
		for i, el := range x.Elts {
			switch el.(type) {
			case *ast.Comprehension, *ast.Ellipsis:
				// Later indices are not known from the syntax.
				return
			}
			p := joinIndex(path, i)
			ix.set(p, el.Pos())
			ix.expr(p, el)
		}
	case *ast.BinaryExpr:
		if x.Op == token.AND {
			ix.expr(path, x.X)
			ix.expr(path, x.Y)
		}
	case *ast.ParenExpr:
		ix.expr(path, x.X)
	}
}

// handleRef returns the name of the named handle an expression refers to
// (named_handles.X or named_handles["X"]), or false.
func handleRef(n ast.Node) (string, token.Pos, bool) {
	switch x := n.(type) {
	case *ast.SelectorExpr:
		if id, ok := x.X.(*ast.Ident); ok && id.Name == "named_handles" {
			if name, _, err := ast.LabelName(x.Sel); err == nil {
				return name, x.Sel.Pos(), true
			}
		}
	case *ast.IndexExpr:
		if id, ok := x.X.(*ast.Ident); ok && id.Name == "named_handles" {
			if lit, ok := x.Index.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					return s, lit.Pos(), true
				}
			}
		}
	}
	return "", token.NoPos, false
}

// scanHandles records the named handles a file defines and the references
// to named handles it makes, for cycle reports and "did you mean" hints.
func (ix *posIndex) scanHandles(f *ast.File) {
	collect := func(from string, n ast.Node) {
		ast.Walk(n, func(n ast.Node) bool {
			if name, p, ok := handleRef(n); ok {
				ix.refs[toPos(p)] = name
				if from != "" {
					ix.handleRefs[from] = append(ix.handleRefs[from], name)
				}
			}
			return true
		}, nil)
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.Field)
		if !ok {
			collect("", d)
			continue
		}
		if name, ok := regularLabel(fd.Label); !ok || name != "named_handles" {
			collect("", fd)
			continue
		}
		st, ok := fd.Value.(*ast.StructLit)
		if !ok {
			collect("", fd)
			continue
		}
		for _, e := range st.Elts {
			hf, ok := e.(*ast.Field)
			if !ok {
				collect("", e)
				continue
			}
			name, ok := regularLabel(hf.Label)
			if !ok {
				collect("", hf)
				continue
			}
			if _, dup := ix.handles[name]; !dup {
				ix.handles[name] = toPos(hf.Label.Pos())
			}
			collect(name, hf.Value)
		}
	}
}

// handleCycles returns the cycles among named handles, each as the list of
// names along it (the first repeated at the end), the smallest name first.
func (ix *posIndex) handleCycles() [][]string {
	ix.scan()
	names := make([]string, 0, len(ix.handleRefs))
	for n := range ix.handleRefs {
		names = append(names, n)
	}
	sort.Strings(names)
	state := map[string]uint8{}
	var stack []string
	seen := map[string]bool{}
	var out [][]string
	var visit func(string)
	visit = func(n string) {
		switch state[n] {
		case 1:
			i := 0
			for stack[i] != n {
				i++
			}
			cyc := append([]string{}, stack[i:]...)
			// Rotate so that the smallest name comes first.
			min := 0
			for j := range cyc {
				if cyc[j] < cyc[min] {
					min = j
				}
			}
			cyc = append(cyc[min:], cyc[:min]...)
			key := strings.Join(cyc, "\x00")
			if !seen[key] {
				seen[key] = true
				out = append(out, append(cyc, cyc[0]))
			}
			return
		case 2:
			return
		}
		if _, defined := ix.handles[n]; !defined {
			return
		}
		state[n] = 1
		stack = append(stack, n)
		refs := append([]string{}, ix.handleRefs[n]...)
		sort.Strings(refs)
		for _, r := range refs {
			visit(r)
		}
		stack = stack[:len(stack)-1]
		state[n] = 2
	}
	for _, n := range names {
		visit(n)
	}
	sort.Slice(out, func(i, j int) bool { return strings.Join(out[i], " ") < strings.Join(out[j], " ") })
	return out
}

// handleNames returns the names of the literally defined named handles.
func (ix *posIndex) handleNames() []string {
	ix.scan()
	out := make([]string, 0, len(ix.handles))
	for n := range ix.handles {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// PosOf returns the position in the policy's files of the value at a config
// path, or of the nearest enclosing value that has one. It is the PosOf of
// mcrouterjson.DecodeOptions.
func (ix *posIndex) PosOf(path string) schema.Pos {
	if p, ok := ix.lit[path]; ok {
		return p
	}
	if p, ok := ix.memo[path]; ok {
		return p
	}
	p := ix.resolve(path)
	ix.memo[path] = p
	return p
}

func (ix *posIndex) resolve(path string) schema.Pos {
	segs, ok := parsePath(path)
	if !ok {
		return schema.Pos{}
	}
	if v := ix.value(segs); v.Exists() {
		if p := toPos(v.Pos()); ix.isUserPos(p) {
			return p
		}
	}
	if len(segs) == 0 {
		return schema.Pos{}
	}
	return ix.PosOf(formatPath(segs[:len(segs)-1]))
}

// value returns the policy's own value at a path (which may not exist).
func (ix *posIndex) value(segs []seg) cue.Value {
	key := formatPath(segs)
	if v, ok := ix.vals[key]; ok {
		return v
	}
	var v cue.Value
	if len(segs) == 0 {
		v = ix.user
	} else {
		parent := ix.value(segs[:len(segs)-1])
		if parent.Exists() {
			v = parent.LookupPath(cuePath(segs[len(segs)-1:]))
		}
	}
	ix.vals[key] = v
	return v
}

// stringAt returns the concrete string at a path of the policy's own value.
func (ix *posIndex) stringAt(segs []seg) (string, bool) {
	v := ix.value(segs)
	if !v.Exists() {
		return "", false
	}
	s, err := v.String()
	return s, err == nil
}
