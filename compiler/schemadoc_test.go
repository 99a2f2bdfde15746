package compiler

import (
	"strings"
	"testing"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/parser"
	"github.com/google/go-cmp/cmp"

	"github.com/mcroute/mcroute/schema"
)

// TestSchemaDocs checks that the policy language's CUE files document every
// definition and every field: they are the language reference.
func TestSchemaDocs(t *testing.T) {
	for _, f := range schema.CUEFiles() {
		af, err := parser.ParseFile(f.Name, f.Source, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		var check func(path string, decls []ast.Decl)
		check = func(path string, decls []ast.Decl) {
			for _, d := range decls {
				fd, ok := d.(*ast.Field)
				if !ok {
					if e, ok := d.(*ast.EmbedDecl); ok {
						if st, ok := e.Expr.(*ast.StructLit); ok {
							check(path, st.Elts)
						}
					}
					continue
				}
				name, _, err := ast.LabelName(fd.Label)
				if err != nil {
					continue // pattern constraints
				}
				p := name
				if path != "" {
					p = path + "." + name
				}
				if strings.HasPrefix(name, "_") {
					continue
				}
				// Templates document their parameters; their other
				// fields are those of the route kind.
				if f.Name == "templates.cue" && path != "" && !strings.HasPrefix(name, "#") {
					continue
				}
				if !hasDoc(fd) {
					t.Errorf("%s: %s has no doc comment", f.Name, p)
				}
				if st, ok := fd.Value.(*ast.StructLit); ok {
					check(p, st.Elts)
				}
			}
		}
		check("", af.Decls)
	}
}

func hasDoc(n ast.Node) bool {
	for _, c := range ast.Comments(n) {
		if c.Doc {
			return true
		}
	}
	return false
}

// TestSchemaFormatted checks that the policy language's CUE files are
// formatted as cue fmt does.
func TestSchemaFormatted(t *testing.T) {
	for _, f := range schema.CUEFiles() {
		got, err := format.Source(f.Source)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if string(got) != string(f.Source) {
			t.Errorf("%s is not formatted (cue fmt):\n%s", f.Name, cmp.Diff(string(f.Source), string(got)))
		}
	}
}
