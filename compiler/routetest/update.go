package routetest

import (
	"bytes"
	"errors"
	"sort"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/mcroute/mcroute/schema"
)

// caseUpdate is the new expectations of one case.
type caseUpdate struct {
	name         string
	pos          schema.Pos
	fields       Fields
	destinations []string
	reply        string
	path         []string
}

// newCaseUpdate records what --update writes for a failing case: the
// mismatched fields, or destinations and reply for a case without
// expectations. Destinations keep the form the case uses ("pool[index]"
// alone when every expected destination is written so).
func newCaseUpdate(c *Case, cr *CaseResult) caseUpdate {
	u := caseUpdate{name: c.Name, pos: c.Pos, reply: cr.Got.Reply, path: cr.Got.Path}
	if c.Want.Fields == 0 {
		u.fields = FieldDestinations | FieldReply
	} else {
		for _, n := range cr.Mismatch {
			switch n {
			case "destinations":
				u.fields |= FieldDestinations
			case "reply":
				u.fields |= FieldReply
			case "path":
				u.fields |= FieldPath
			}
		}
	}
	short := len(c.Want.Destinations) > 0
	for _, d := range c.Want.Destinations {
		if hasAddr(d) {
			short = false
		}
	}
	u.destinations = []string{}
	for _, d := range cr.Got.Destinations {
		if short {
			u.destinations = append(u.destinations, d.Short())
		} else {
			u.destinations = append(u.destinations, d.String())
		}
	}
	return u
}

// fields returns the fields to write, in file order, laid out on one line
// (inline) or one field and one list element per line.
func (u caseUpdate) fieldList(inline bool) []*ast.Field {
	var out []*ast.Field
	if u.fields&FieldDestinations != 0 {
		out = append(out, &ast.Field{Label: ast.NewIdent("destinations"), Value: stringList(u.destinations, inline)})
	}
	if u.fields&FieldReply != 0 {
		out = append(out, &ast.Field{Label: ast.NewIdent("reply"), Value: ast.NewString(u.reply)})
	}
	if u.fields&FieldPath != 0 {
		out = append(out, &ast.Field{Label: ast.NewIdent("path"), Value: stringList(u.path, inline)})
	}
	return out
}

// stringList returns a list literal, on one line (always for up to one
// element) or with one element per line.
func stringList(ss []string, inline bool) *ast.ListLit {
	inline = inline || len(ss) <= 1
	l := &ast.ListLit{}
	for _, s := range ss {
		e := ast.NewString(s)
		if !inline {
			ast.SetRelPos(e, token.Newline)
		}
		l.Elts = append(l.Elts, e)
	}
	if len(ss) > 0 && !inline {
		l.Rbrack = token.Newline.Pos()
	}
	return l
}

// structLit returns a struct literal of elts laid out on one line or one
// element per line. It changes the elements' relative positions.
func structLit(elts []ast.Decl, inline bool) *ast.StructLit {
	rel := token.Newline
	if inline {
		rel = token.Blank
	}
	for _, e := range elts {
		ast.SetRelPos(e, rel)
	}
	return &ast.StructLit{Lbrace: token.Blank.Pos(), Elts: elts, Rbrace: rel.Pos()}
}

// isInline reports whether n is a non-empty struct literal written on one line
// between braces.
func isInline(n ast.Expr) bool {
	sl, ok := n.(*ast.StructLit)
	return ok && len(sl.Elts) > 0 && sl.Lbrace.IsValid() && sl.Rbrace.IsValid() && sl.Lbrace.Line() == sl.Rbrace.Line()
}

// edit replaces src[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// update returns the file's source with the expectations of the given
// cases rewritten, and the cases it could not rewrite with the reason.
// Only the want fields being rewritten (or a case's want, when it had
// none) change; the rest of the file is kept byte for byte.
func (f *File) update(us []caseUpdate) ([]byte, map[string]string) {
	failed := map[string]string{}
	var edits []edit
	for _, u := range us {
		e, err := f.caseEdit(u)
		if err != nil {
			failed[u.name] = err.Error()
			continue
		}
		edits = append(edits, e...)
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].start > edits[j].start })
	out := append([]byte(nil), f.src...)
	for _, e := range edits {
		out = append(out[:e.start:e.start], append([]byte(e.text), out[e.end:]...)...)
	}
	if _, err := parser.ParseFile(f.Path, out, parser.ParseComments); err != nil {
		for _, u := range us {
			failed[u.name] = "internal error: the rewritten file does not parse: " + err.Error()
		}
		return f.src, failed
	}
	return out, failed
}

// caseEdit computes the edits that write u into the file.
func (f *File) caseEdit(u caseUpdate) ([]edit, error) {
	cands := f.findCase(u.name)
	if len(cands) == 0 {
		return nil, errors.New("the case is not written as a field of a cases struct literal (a comprehension or reference makes it); update its want by hand")
	}
	// The occurrence holding want, else the last struct literal.
	var target, want *ast.Field
	for _, cf := range cands {
		if sl, ok := cf.Value.(*ast.StructLit); ok {
			if w := findField(sl.Elts, "want"); w != nil {
				target, want = cf, w
			}
		}
	}
	if target == nil {
		for i := len(cands) - 1; i >= 0; i-- {
			if _, ok := cands[i].Value.(*ast.StructLit); ok {
				target = cands[i]
				break
			}
		}
	}
	if target == nil {
		return nil, errors.New("the case is not a struct literal; update its want by hand")
	}
	sl := target.Value.(*ast.StructLit)
	if want != nil {
		wsl, ok := want.Value.(*ast.StructLit)
		if !ok {
			return nil, errors.New("want is not a struct literal; update it by hand")
		}
		return f.wantEdits(wsl, u)
	}
	inline := isInline(sl)
	var welts []ast.Decl
	for _, nf := range u.fieldList(inline) {
		welts = append(welts, nf)
	}
	wf := &ast.Field{Label: ast.NewIdent("want"), Value: structLit(welts, inline)}
	if sl.Lbrace.IsValid() && sl.Rbrace.IsValid() && !inline && len(sl.Elts) > 0 {
		// Insert a line before the closing brace.
		rb := sl.Rbrace.Offset()
		ls := lineStart(f.src, rb)
		if strings.TrimSpace(string(f.src[ls:rb])) == "" {
			return f.insertBefore(sl, []*ast.Field{wf})
		}
	}
	elts := append(append([]ast.Decl(nil), sl.Elts...), wf)
	return f.replace(target.Value, structLit(elts, inline))
}

// wantEdits rewrites fields of an existing want: the values of the fields
// it has are replaced in place; missing fields are added on lines of their
// own before the closing brace, or, when want is written on one line or
// without braces, by rewriting want as a whole.
func (f *File) wantEdits(want *ast.StructLit, u caseUpdate) ([]edit, error) {
	inline := isInline(want)
	var edits []edit
	var missing []*ast.Field
	for _, nf := range u.fieldList(inline) {
		fd := findField(want.Elts, labelName(nf))
		if fd == nil {
			missing = append(missing, nf)
			continue
		}
		e, err := f.replace(fd.Value, nf.Value)
		if err != nil {
			return nil, err
		}
		edits = append(edits, e...)
	}
	if len(missing) == 0 {
		return edits, nil
	}
	if want.Lbrace.IsValid() && !inline && len(want.Elts) > 0 {
		rb := want.Rbrace.Offset()
		ls := lineStart(f.src, rb)
		if strings.TrimSpace(string(f.src[ls:rb])) == "" {
			ins, err := f.insertBefore(want, missing)
			if err != nil {
				return nil, err
			}
			return append(edits, ins...), nil
		}
	}
	// Rewrite want whole, with the new values.
	elts := append([]ast.Decl(nil), want.Elts...)
	for _, nf := range u.fieldList(inline) {
		replaced := false
		for i, d := range elts {
			if fd, ok := d.(*ast.Field); ok && labelName(fd) == labelName(nf) {
				c := *fd
				c.Value = nf.Value
				elts[i] = &c
				replaced = true
			}
		}
		if !replaced {
			elts = append(elts, nf)
		}
	}
	if !want.Lbrace.IsValid() {
		inline = false
	}
	return f.replace(want, structLit(elts, inline))
}

// insertBefore returns the edit adding fields on lines of their own before
// the closing brace of sl, which is on a line of its own, indented as sl's
// first element.
func (f *File) insertBefore(sl *ast.StructLit, fields []*ast.Field) ([]edit, error) {
	ls := lineStart(f.src, sl.Rbrace.Offset())
	indent := leadingSpace(f.src, sl.Elts[0].Pos().Offset())
	var b strings.Builder
	for _, fd := range fields {
		ast.SetRelPos(fd, token.Newline)
		text, err := formatNode(fd, indent)
		if err != nil {
			return nil, err
		}
		b.WriteString(indent + text + "\n")
	}
	return []edit{{start: ls, end: ls, text: b.String()}}, nil
}

// replace returns the edit putting n where old is.
func (f *File) replace(old ast.Node, n ast.Node) ([]edit, error) {
	start, end := old.Pos().Offset(), old.End().Offset()
	text, err := formatNode(n, leadingSpace(f.src, start))
	if err != nil {
		return nil, err
	}
	return []edit{{start: start, end: end, text: text}}, nil
}

// findCase returns the fields defining a case, in file order: the fields
// labelled name in every struct literal that is the value of a top-level
// cases field.
func (f *File) findCase(name string) []*ast.Field {
	var out []*ast.Field
	for _, d := range f.syntax.Decls {
		fd, ok := d.(*ast.Field)
		if !ok || labelName(fd) != "cases" {
			continue
		}
		sl, ok := fd.Value.(*ast.StructLit)
		if !ok {
			continue
		}
		for _, e := range sl.Elts {
			if cf, ok := e.(*ast.Field); ok && labelName(cf) == name {
				out = append(out, cf)
			}
		}
	}
	return out
}

func findField(elts []ast.Decl, name string) *ast.Field {
	for _, d := range elts {
		if fd, ok := d.(*ast.Field); ok && labelName(fd) == name {
			return fd
		}
	}
	return nil
}

func labelName(fd *ast.Field) string {
	name, _, err := ast.LabelName(fd.Label)
	if err != nil {
		return ""
	}
	return name
}

// formatNode formats n as cue fmt does, with every line after the first
// indented by indent.
func formatNode(n ast.Node, indent string) (string, error) {
	b, err := format.Node(n)
	if err != nil {
		return "", err
	}
	lines := strings.Split(string(bytes.TrimRight(b, "\n")), "\n")
	for i := 1; i < len(lines); i++ {
		if lines[i] != "" {
			lines[i] = indent + lines[i]
		}
	}
	return strings.Join(lines, "\n"), nil
}

func lineStart(src []byte, off int) int {
	return bytes.LastIndexByte(src[:off], '\n') + 1
}

// leadingSpace returns the indentation of the line holding offset off.
func leadingSpace(src []byte, off int) string {
	ls := lineStart(src, off)
	i := ls
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	return string(src[ls:i])
}
