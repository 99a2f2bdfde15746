package compiler

import (
	"encoding/json"

	"cuelang.org/go/cue"

	"github.com/mcroute/mcroute/compiler/jsonm"
)

// exportJSON exports a valid, concrete value as a JSON value tree for
// mcrouterjson.Decode. Positions in the tree are those of the exported text;
// Decode is given the policy's positions through PosOf instead.
func exportJSON(v cue.Value) (*jsonm.Value, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonm.Parse("", b)
}

// exportLenient converts whatever of v is concrete into a JSON value tree,
// leaving out fields that are errors or not concrete and replacing such list
// elements with null (so that later elements keep their index). It returns
// the config paths of what it left out, each with its error (nil for a value
// that is merely not concrete). It is used on a policy that failed
// validation, so that Decode can still report every problem it finds in
// what the user wrote, and so that the errors of each value left out are
// known: CUE's validation of the whole reports some kinds of errors only
// when there are no others.
//
// Routes named in cyclic (structural cycles among named handles, whose
// names are given) are left out too: they are reported as cycles.
func exportLenient(v cue.Value, cyclic map[string]bool) (*jsonm.Value, map[string]error) {
	const maxDepth = 200
	skipped := map[string]error{}
	var conv func(v cue.Value, path string, depth int) *jsonm.Value
	conv = func(v cue.Value, path string, depth int) (out *jsonm.Value) {
		if depth > maxDepth {
			skipped[path] = nil
			return nil
		}
		if d, ok := v.Default(); ok {
			v = d
		}
		// A struct or list with errors inside (a structural cycle, even)
		// may be an error as a whole: keep what can be listed of it,
		// unless it is where a cycle closes. Scalars that are errors or
		// not concrete are left out.
		kind := v.Kind()
		if kind == cue.BottomKind {
			if len(cyclic) > 0 {
				if n, err := v.LookupPath(cue.MakePath(cue.Str("name"))).String(); err == nil && cyclic[n] {
					skipped[path] = v.Err()
					return nil
				}
			}
			kind = listable(v)
		}
		switch kind {
		case cue.NullKind:
			return jsonm.NewNull(jsonm.Pos{})
		case cue.BoolKind:
			if b, err := v.Bool(); err == nil {
				return jsonm.NewBool(b, jsonm.Pos{})
			}
		case cue.IntKind:
			if i, err := v.Int64(); err == nil {
				return jsonm.NewInt(i, jsonm.Pos{})
			}
			if f, err := v.Float64(); err == nil {
				return jsonm.NewFloat(f, jsonm.Pos{})
			}
		case cue.FloatKind:
			if f, err := v.Float64(); err == nil {
				return jsonm.NewFloat(f, jsonm.Pos{})
			}
		case cue.StringKind:
			if s, err := v.String(); err == nil {
				return jsonm.NewString(s, jsonm.Pos{})
			}
		case cue.ListKind:
			if it, err := v.List(); err == nil {
				elems := []*jsonm.Value{}
				for i := 0; it.Next(); i++ {
					e := conv(it.Value(), joinIndex(path, i), depth+1)
					if e == nil {
						e = jsonm.NewNull(jsonm.Pos{})
					}
					elems = append(elems, e)
				}
				return jsonm.NewArray(elems, jsonm.Pos{})
			}
		case cue.StructKind:
			if it, err := v.Fields(); err == nil {
				members := []*jsonm.Member{}
				for it.Next() {
					key, ok := regularName(it.Selector())
					if !ok {
						continue
					}
					if e := conv(it.Value(), joinKey(path, key), depth+1); e != nil {
						members = append(members, &jsonm.Member{Key: key, Value: e})
					}
				}
				return jsonm.NewObject(members, jsonm.Pos{})
			}
		}
		skipped[path] = v.Err()
		return nil
	}
	root := conv(v, "", 0)
	return root, skipped
}

// listable returns StructKind or ListKind if v, although an error as a
// whole, has fields or elements that can be listed, and BottomKind
// otherwise.
func listable(v cue.Value) cue.Kind {
	if it, err := v.List(); err == nil && it.Next() {
		return cue.ListKind
	}
	if it, err := v.Fields(); err == nil && it.Next() && it.Selector().LabelType() == cue.StringLabel {
		return cue.StructKind
	}
	return cue.BottomKind
}

// regularName returns the name of a regular field's selector, or false for
// definitions, hidden fields and constraints.
func regularName(sel cue.Selector) (string, bool) {
	if sel.LabelType() != cue.StringLabel || sel.ConstraintType() >= cue.PatternConstraint {
		return "", false
	}
	return sel.Unquoted(), true
}

// selName returns the name of a selector: the unquoted name of a regular
// field, or its CUE spelling.
func selName(sel cue.Selector) string {
	if n, ok := regularName(sel); ok {
		return n
	}
	return sel.String()
}
