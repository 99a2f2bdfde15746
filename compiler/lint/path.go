package lint

import (
	"strconv"
	"strings"

	"github.com/mcroute/mcroute/compiler/jsonm"
	"github.com/mcroute/mcroute/compiler/mcrouterjson"
)

// Config paths are written as mcrouterjson.Decode writes them, so that lint
// findings and loader findings can be matched: keys joined with ".", list
// indexes in brackets, and keys that are not identifiers quoted in brackets
// (routes["/a/b/"], pools.A.servers[1]).

func joinPath(path, key string) string { return mcrouterjson.JoinPath(path, key) }

func indexPath(path string, i int) string { return mcrouterjson.IndexPath(path, i) }

// edgePath appends a schema.Edge label ("children[1]",
// "operation_policies.get", "shadows[0].target") to path.
func edgePath(path, label string) string {
	i := strings.IndexAny(label, ".[")
	if i < 0 {
		return joinPath(path, label)
	}
	field, rest := label[:i], label[i:]
	p := joinPath(path, field)
	if rest[0] == '[' {
		return p + rest
	}
	switch field {
	case "operation_policies", "routing_group_policies", "policies":
		return joinPath(p, rest[1:])
	}
	return p + rest
}

// splitPath parses a config path into its keys and indexes; indexes are
// returned as ints, keys as strings. It returns nil for a malformed path.
func splitPath(path string) []any {
	var out []any
	for len(path) > 0 {
		switch path[0] {
		case '.':
			path = path[1:]
		case '[':
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return nil
			}
			if len(path) > 1 && path[1] == '"' {
				// A quoted key: find the closing quote.
				q, err := strconv.QuotedPrefix(path[1:])
				if err != nil {
					return nil
				}
				key, _ := strconv.Unquote(q)
				out = append(out, key)
				path = path[1+len(q):]
				if !strings.HasPrefix(path, "]") {
					return nil
				}
				path = path[1:]
				continue
			}
			n, err := strconv.Atoi(path[1:end])
			if err != nil {
				return nil
			}
			out = append(out, n)
			path = path[end+1:]
		default:
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			out = append(out, path[:end])
			path = path[end:]
		}
	}
	return out
}

// lookupPath returns the JSON value at a config path, or nil.
func lookupPath(v *jsonm.Value, path string) *jsonm.Value {
	if v, complete := lookupDeepest(v, path); complete {
		return v
	}
	return nil
}

// lookupDeepest returns the JSON value at a config path and true, or the
// deepest value on the way there and false (nil for a malformed path).
func lookupDeepest(v *jsonm.Value, path string) (*jsonm.Value, bool) {
	if v == nil {
		return nil, false
	}
	segs := splitPath(path)
	if segs == nil && path != "" {
		return nil, false
	}
	for _, seg := range segs {
		var next *jsonm.Value
		switch s := seg.(type) {
		case string:
			next = v.Get(s)
		case int:
			if v.Kind == jsonm.Array && s >= 0 && s < len(v.Arr) {
				next = v.Arr[s]
			}
		}
		if next == nil {
			return v, false
		}
		v = next
	}
	return v, true
}
