package lint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/mcroute/mcroute/compiler/jsonm"
	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/internal/suggest"
	"github.com/mcroute/mcroute/schema"
)

// compiledSchema compiles the embedded JSON Schema once.
var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	c.LoadURL = func(u string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("lint: the mcrouter schema refers to %s; remote references are not loaded", u)
	}
	if err := c.AddResource(schema.MCRouterJSONSchemaURL, bytes.NewReader(schema.MCRouterJSONSchema())); err != nil {
		return nil, err
	}
	return c.Compile(schema.MCRouterJSONSchemaURL)
})

// ValidateJSON validates a macro-expanded mcrouter config against the JSON
// Schema of mcrouter configs and returns one finding per violation, at the
// offending value (or, for unknown keys, at the key). Unknown keys are
// warnings, other violations errors; all have rule ID RuleSchema.
func ValidateJSON(raw *jsonm.Value) diag.List {
	if raw == nil {
		return nil
	}
	sch, err := compiledSchema()
	if err != nil {
		// The embedded schema is tested; this is a build defect.
		return diag.List{{Severity: diag.Error, Rule: RuleSchema, Message: "internal error: " + err.Error()}}
	}
	err = sch.Validate(raw.ToAny())
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		if err != nil {
			return diag.List{{Pos: toPos(raw.Pos), Severity: diag.Error, Rule: RuleSchema, Message: "cannot validate: " + err.Error()}}
		}
		return nil
	}
	var out diag.List
	for _, leaf := range leaves(ve, nil) {
		out = append(out, translate(raw, leaf)...)
	}
	out.Sort()
	return out
}

// leaves returns the most specific errors of a validation error tree.
func leaves(e *jsonschema.ValidationError, out []*jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return append(out, e)
	}
	for _, c := range e.Causes {
		out = leaves(c, out)
	}
	return out
}

var quoted = regexp.MustCompile(`'((?:[^']|'')*)'`)

// translate turns a leaf validation error into findings at the user's
// line and column, with config paths as the decoder writes them.
func translate(raw *jsonm.Value, e *jsonschema.ValidationError) diag.List {
	kw := e.KeywordLocation[strings.LastIndexByte(e.KeywordLocation, '/')+1:]
	v, path, ok := resolvePointer(raw, e.InstanceLocation)
	if !ok {
		return nil
	}
	last := lastKey(e.InstanceLocation)
	finding := func(sev diag.Severity, pos jsonm.Pos, path, msg string) diag.Diagnostic {
		return diag.Diagnostic{Pos: toPos(pos), Severity: sev, Rule: RuleSchema, Message: msg, Path: path}
	}
	what := describeObject(v, path)
	switch kw {
	case "additionalProperties":
		var out diag.List
		for _, m := range quoted.FindAllStringSubmatch(e.Message, -1) {
			name := m[1]
			mem := v.Member(name)
			if mem == nil {
				continue
			}
			known := knownKeys(v, path)
			msg := fmt.Sprintf("unknown field %q for %s is ignored by mcrouter%s", name, what, suggest.Hint(name, known))
			if path == "" {
				msg = fmt.Sprintf("unknown top-level key %q is ignored by mcrouter%s", name, suggest.Hint(name, known))
			}
			out = append(out, finding(diag.Warning, mem.KeyPos, joinPath(path, name), msg))
		}
		return out
	case "required":
		var names []string
		for _, m := range quoted.FindAllStringSubmatch(e.Message, -1) {
			names = append(names, strconv.Quote(m[1]))
		}
		if path == "" {
			return diag.List{finding(diag.Error, v.Pos, path, "the config needs \"route\" or \"routes\"")}
		}
		return diag.List{finding(diag.Error, v.Pos, path, fmt.Sprintf("%s needs %s", what, strings.Join(names, " and ")))}
	case "not":
		if path == "" {
			return diag.List{finding(diag.Error, v.Pos, path, "the config has both \"route\" and \"routes\"; use one")}
		}
	case "enum", "const":
		if last == "type" {
			return diag.List{finding(diag.Error, v.Pos, path, fmt.Sprintf("unknown route type %s%s", v.String(), suggest.Hint(v.Str, schema.KindNames())))}
		}
	}
	msg := e.Message
	if path != "" {
		msg = path + ": " + msg
	}
	return diag.List{finding(diag.Error, v.Pos, path, msg)}
}

// describeObject names the object a violation is in: "PoolRoute",
// "pool A", "routes entry".
func describeObject(v *jsonm.Value, path string) string {
	if t := v.Get("type"); t != nil && t.Kind == jsonm.String && !strings.HasPrefix(path, "pools") {
		return t.Str
	}
	segs := splitPath(path)
	if len(segs) == 2 && segs[0] == "pools" {
		return fmt.Sprintf("pool %v", segs[1])
	}
	if len(segs) == 2 && segs[0] == "routes" {
		return "routes entry"
	}
	if path == "" {
		return "the config"
	}
	return path
}

// knownKeys lists the keys allowed in the object at path, for hints.
func knownKeys(v *jsonm.Value, path string) []string {
	segs := splitPath(path)
	switch {
	case path == "":
		return []string{"pools", "named_handles", "route", "routes", "routing_options"}
	case len(segs) == 2 && segs[0] == "pools":
		return mcrouterjson.PoolFields()
	}
	if t := v.Get("type"); t != nil && t.Kind == jsonm.String {
		if k, ok := schema.LookupKind(t.Str); ok {
			if k.Name == "Pool" {
				return mcrouterjson.PoolFields()
			}
			return k.Fields
		}
	}
	return nil
}

func lastKey(pointer string) string {
	if pointer == "" {
		return ""
	}
	return unescapePointer(pointer[strings.LastIndexByte(pointer, '/')+1:])
}

func unescapePointer(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
}

// resolvePointer finds the value at a JSON pointer and its config path.
func resolvePointer(v *jsonm.Value, pointer string) (*jsonm.Value, string, bool) {
	path := ""
	if pointer == "" {
		return v, path, true
	}
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		tok = unescapePointer(tok)
		switch v.Kind {
		case jsonm.Object:
			v = v.Get(tok)
			path = joinPath(path, tok)
		case jsonm.Array:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v.Arr) {
				return nil, "", false
			}
			v = v.Arr[i]
			path = indexPath(path, i)
		default:
			return nil, "", false
		}
		if v == nil {
			return nil, "", false
		}
	}
	return v, path, true
}

// runSchema is the schema rule: ValidateJSON, minus what the loader already
// reported at the same path or position.
func runSchema(p *Pass) {
	paths := map[string]bool{}
	positions := map[schema.Pos]bool{}
	missingRoute := false
	for _, d := range p.prior {
		if d.Path != "" {
			paths[d.Path] = true
		}
		if d.Pos.IsValid() {
			positions[d.Pos] = true
		}
		if d.Rule == mcrouterjson.RuleMissingRoute {
			missingRoute = true
		}
	}
	for _, d := range ValidateJSON(p.Raw) {
		parent, last := parentPath(d.Path)
		switch {
		case paths[d.Path], positions[d.Pos]:
			continue
		case last == "type" && paths[parent]:
			// unknown-route-type is reported at the route object.
			continue
		case d.Path == "" && missingRoute:
			continue
		}
		*p.out = append(*p.out, d)
	}
}

// parentPath splits the last key off a config path.
func parentPath(path string) (string, string) {
	segs := splitPath(path)
	if len(segs) == 0 {
		return "", ""
	}
	last, _ := segs[len(segs)-1].(string)
	parent := ""
	for _, s := range segs[:len(segs)-1] {
		switch s := s.(type) {
		case string:
			parent = joinPath(parent, s)
		case int:
			parent = indexPath(parent, s)
		}
	}
	return parent, last
}
