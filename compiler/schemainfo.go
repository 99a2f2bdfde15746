package compiler

import (
	"path"
	"sort"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"

	"github.com/mcroute/mcroute/schema"
)

// schemaInfo is what the compiler needs to know about the policy language's
// definitions, read once from the embedded schema.
type schemaInfo struct {
	files []schema.CUEFile
	// defs are the top-level definitions (#Route, #Pool, ...).
	defs map[string]bool
	// kinds maps each route type of #Kinds to its option names;
	// topKinds does the same for #TopKinds.
	kinds, topKinds map[string][]string
	// kindNames are the keys of #Kinds, sorted.
	kindNames []string
	// policyFields are #Policy's fields; poolFields #PoolFields's.
	policyFields, poolFields []string
	// routingOptions are #RoutingOptions's fields.
	routingOptions []string
	// hashFields are #Hash's fields; shadowFields #Shadow's.
	hashFields, shadowFields []string
	// lines holds each schema file's lines, by base name.
	lines map[string][]string
	err   error
}

var loadSchemaInfo = sync.OnceValue(func() *schemaInfo {
	si := &schemaInfo{
		files:    schema.CUEFiles(),
		defs:     map[string]bool{},
		kinds:    map[string][]string{},
		topKinds: map[string][]string{},
		lines:    map[string][]string{},
	}
	ctx := cuecontext.New()
	var files []*ast.File
	for _, f := range si.files {
		si.lines[f.Name] = strings.Split(string(f.Source), "\n")
		af, err := parser.ParseFile(f.Name, f.Source, parser.ParseComments)
		if err != nil {
			si.err = err
			return si
		}
		files = append(files, af)
		for _, d := range af.Decls {
			if fd, ok := d.(*ast.Field); ok {
				if name, isIdent, err := ast.LabelName(fd.Label); err == nil && isIdent && strings.HasPrefix(name, "#") {
					si.defs[name] = true
				}
			}
		}
	}
	// The files share one package: build them as one instance.
	bi := build.NewContext().NewInstance("", nil)
	for _, f := range files {
		if err := bi.AddSyntax(f); err != nil {
			si.err = err
			return si
		}
	}
	inst := ctx.BuildInstance(bi)
	if err := inst.Err(); err != nil {
		si.err = err
		return si
	}
	fieldsOf := func(v cue.Value) []string {
		var out []string
		it, err := v.Fields(cue.Optional(true))
		if err != nil {
			return nil
		}
		for it.Next() {
			out = append(out, selName(it.Selector()))
		}
		sort.Strings(out)
		return out
	}
	kinds := func(def string, into map[string][]string) {
		it, err := inst.LookupPath(cue.ParsePath(def)).Fields(cue.Optional(true))
		if err != nil {
			si.err = err
			return
		}
		for it.Next() {
			name := selName(it.Selector())
			into[name] = append(fieldsOf(it.Value()), "name", "type")
			sort.Strings(into[name])
		}
	}
	kinds("#Kinds", si.kinds)
	kinds("#TopKinds", si.topKinds)
	for k := range si.kinds {
		si.kindNames = append(si.kindNames, k)
	}
	sort.Strings(si.kindNames)
	si.policyFields = fieldsOf(inst.LookupPath(cue.ParsePath("#Policy")))
	si.poolFields = fieldsOf(inst.LookupPath(cue.ParsePath("#PoolFields")))
	si.routingOptions = fieldsOf(inst.LookupPath(cue.ParsePath("#RoutingOptions")))
	si.hashFields = fieldsOf(inst.LookupPath(cue.ParsePath("#Hash")))
	si.shadowFields = fieldsOf(inst.LookupPath(cue.ParsePath("#Shadow")))
	return si
})

// line returns the text of a schema file's line at p (whose file name is
// that of the schema file as added to a policy).
func (si *schemaInfo) line(p schema.Pos) (string, bool) {
	lines, ok := si.lines[schemaBase(p.File)]
	if !ok || p.Line < 1 || p.Line > len(lines) {
		return "", false
	}
	return lines[p.Line-1], true
}

// schemaPrefix starts the names of the schema files added to a policy's
// package.
const schemaPrefix = "zz_mcroute_"

// schemaBase returns the schema file name ("route.cue") of a file added to
// a policy ("/dir/zz_mcroute_route.cue"), or "".
func schemaBase(file string) string {
	b := path.Base(strings.ReplaceAll(file, "\\", "/"))
	if !strings.HasPrefix(b, schemaPrefix) {
		return ""
	}
	return strings.TrimPrefix(b, schemaPrefix)
}
