package compiler

import (
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"github.com/mcroute/mcroute/compiler/mcrouterjson"
)

// A config path names a value of a policy the way mcrouterjson.Decode
// reports it: field names joined by dots, list indices in brackets, and keys
// that are not plain names quoted in brackets: pools.A.servers[1],
// route.operation_policies.lease-get, routes["/a/b/"].policies["user:"].
// The compiler uses the same syntax for the paths of CUE errors so that
// diagnostics from both sources can be matched.

// seg is one step of a config path: a field name or a list index.
type seg struct {
	name  string
	index int
	isIdx bool
}

// joinKey appends a field name to a config path, as Decode does.
func joinKey(path, key string) string { return mcrouterjson.JoinPath(path, key) }

// joinIndex appends a list index to a config path.
func joinIndex(path string, i int) string { return mcrouterjson.IndexPath(path, i) }

// formatPath renders segs as a config path.
func formatPath(segs []seg) string {
	var p string
	for _, s := range segs {
		if s.isIdx {
			p = joinIndex(p, s.index)
		} else {
			p = joinKey(p, s.name)
		}
	}
	return p
}

// parsePath splits a config path into its steps. It returns false if path
// is not well formed.
func parsePath(path string) ([]seg, bool) {
	var out []seg
	i := 0
	for i < len(path) {
		switch path[i] {
		case '.':
			if i == 0 {
				return nil, false
			}
			i++
		case '[':
			rest := path[i+1:]
			if strings.HasPrefix(rest, `"`) {
				q, err := strconv.QuotedPrefix(rest)
				if err != nil {
					return nil, false
				}
				name, _ := strconv.Unquote(q)
				i += 1 + len(q)
				if i >= len(path) || path[i] != ']' {
					return nil, false
				}
				i++
				out = append(out, seg{name: name})
				continue
			}
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, false
			}
			n, err := strconv.Atoi(rest[:end])
			if err != nil || n < 0 {
				return nil, false
			}
			out = append(out, seg{index: n, isIdx: true})
			i += end + 2
			continue
		}
		j := i
		for j < len(path) && path[j] != '.' && path[j] != '[' {
			j++
		}
		if j == i {
			return nil, false
		}
		out = append(out, seg{name: path[i:j]})
		i = j
	}
	return out, true
}

// cuePath converts steps to a cue.Path for lookups in a cue.Value.
func cuePath(segs []seg) cue.Path {
	sels := make([]cue.Selector, len(segs))
	for i, s := range segs {
		if s.isIdx {
			sels[i] = cue.Index(s.index)
		} else {
			sels[i] = cue.Str(s.name)
		}
	}
	return cue.MakePath(sels...)
}

// parentPath returns the config path one step up, and false at the root.
func parentPath(path string) (string, bool) {
	segs, ok := parsePath(path)
	if !ok || len(segs) == 0 {
		return "", false
	}
	return formatPath(segs[:len(segs)-1]), true
}

// isUnder reports whether path is inside (or equal to) prefix.
func isUnder(path, prefix string) bool {
	if prefix == "" {
		return true
	}
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	if len(path) == len(prefix) {
		return true
	}
	c := path[len(prefix)]
	return c == '.' || c == '['
}
