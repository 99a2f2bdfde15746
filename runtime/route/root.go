package route

import (
	"context"
	"strconv"
	"strings"

	"github.com/mcroute/mcroute/runtime/mc"
)

// prefixSelector is mcrouter's PrefixSelectorRoute: the policy of the
// longest key prefix of the routing key that has one, else the wildcard
// (which may be nil: no route).
type prefixSelector struct {
	prefixes []string // longest first
	policies []node
	wildcard node
}

func (p *prefixSelector) pick(rk []byte) (node, string) {
	for i, pre := range p.prefixes {
		if len(rk) >= len(pre) && string(rk[:len(pre)]) == pre {
			return p.policies[i], pre
		}
	}
	return p.wildcard, ""
}

// rootEntry is one route tree with its aliases.
type rootEntry struct {
	aliases []string
	sel     *prefixSelector
}

// root is mcrouter's RootRoute (plus ProxyRoute's flush_all handling).
type root struct {
	s             *shared
	defaultPrefix string
	def           *rootEntry
	entries       []*rootEntry // config order
	byAlias       map[string]*rootEntry
	flushAll      node // AllSync over every destination, or nil
}

// target is one tree's choice for a key.
type target struct {
	h     node
	alias string
	pre   string // matched key prefix, "" for the wildcard
}

// targets returns the trees a key with routing prefix prefix goes to, the
// default route first, each handle once.
func (r *root) targets(prefix string, rk []byte) []target {
	var entries []*rootEntry
	var aliases []string
	add := func(e *rootEntry, alias string) {
		entries = append(entries, e)
		aliases = append(aliases, alias)
	}
	switch {
	case prefix == "":
		add(r.def, r.defaultPrefix)
	case strings.IndexByte(prefix, '*') < 0:
		if e, ok := r.byAlias[prefix]; ok {
			add(e, prefix)
		} else if fb := fallbackPrefix(prefix); fb != "" {
			if e, ok := r.byAlias[fb]; ok {
				add(e, fb)
			}
		}
	default:
		if matchPattern(prefix, r.defaultPrefix) {
			add(r.def, r.defaultPrefix)
		}
		for _, e := range r.entries {
			for _, a := range e.aliases {
				if a != r.defaultPrefix && (prefix == "/*/*/" || matchPattern(prefix, a)) {
					add(e, a)
				}
			}
		}
	}
	var out []target
	for i, e := range entries {
		h, pre := e.sel.pick(rk)
		if h == nil || containsHandle(out, h) {
			continue
		}
		out = append(out, target{h, aliases[i], pre})
	}
	if len(out) == 0 && r.s.opts.SendInvalidRouteToDefault {
		if h, pre := r.def.sel.pick(rk); h != nil {
			out = append(out, target{h, r.defaultPrefix, pre})
		}
	}
	return out
}

func containsHandle(ts []target, h node) bool {
	for _, t := range ts {
		if t.h == h {
			return true
		}
	}
	return false
}

// fallbackPrefix returns /<region>/fallback/ for /<region>/<cluster>/.
func fallbackPrefix(prefix string) string {
	i := strings.IndexByte(prefix[1:], '/')
	if i < 0 {
		return ""
	}
	return prefix[:i+2] + "fallback/"
}

// matchPattern is mcrouter's match_pattern_route: '*' matches any run of
// characters other than '/'.
func matchPattern(pattern, s string) bool {
	for len(pattern) > 0 {
		if pattern[0] == '*' {
			pattern = pattern[1:]
			for i := 0; ; i++ {
				if matchPattern(pattern, s[i:]) {
					return true
				}
				if i == len(s) || s[i] == '/' {
					return false
				}
			}
		}
		if len(s) == 0 || s[0] != pattern[0] {
			return false
		}
		pattern, s = pattern[1:], s[1:]
	}
	return len(s) == 0
}

func (r *root) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	tc := traceOf(ctx)
	switch req.Op {
	case mc.OpFlushAll:
		r.flush(ctx, tc, req, rep)
		return
	case mc.OpFlushRe:
		if tc != nil {
			tc.note("RootRoute: flush_regex is not supported")
		}
		errorReply(rep, mc.ResLocalError, "Command not supported")
		return
	}
	pl := routingPrefixLen(req.Key)
	rk := routingKey(req.Key)
	// Fast path: no prefix, or an exact alias.
	e := r.def
	if pl > 0 {
		e = r.byAlias[string(req.Key[:pl])]
	}
	if e != nil {
		if h, pre := e.sel.pick(rk); h != nil {
			if tc != nil {
				alias := r.defaultPrefix
				if pl > 0 {
					alias = string(req.Key[:pl])
				}
				ctx = tc.enter(rootLabel(alias, pre, e.sel))
			}
			h.Route(ctx, req, rep)
			r.finish(tc, req, rep)
			return
		}
	}
	ts := r.targets(string(req.Key[:pl]), rk)
	if len(ts) == 0 {
		if tc != nil {
			tc.note("RootRoute " + strconv.Quote(string(req.Key[:pl])) + ": no route → local_error")
		}
		errorReply(rep, mc.ResLocalError, "RootRoute: No rh found")
		if r.s.opts.GroupRemoteErrors {
			errorReply(rep, mc.ResRemoteError, "")
		}
		return
	}
	if tc != nil {
		// Traced: the answering tree first, then the copies (inline).
		ts[0].h.Route(tc.enter(rootLabel(ts[0].alias, ts[0].pre, nil)), req, rep)
		for _, x := range ts[1:] {
			tc.background().note(rootLabel(x.alias, x.pre, nil) + " (broadcast copy)")
			r.s.async(tc.child(), req, x.h)
		}
		r.finish(tc, req, rep)
		return
	}
	for _, x := range ts[1:] {
		r.s.async(ctx, req, x.h)
	}
	ts[0].h.Route(ctx, req, rep)
	r.finish(tc, req, rep)
}

func rootLabel(alias, pre string, sel *prefixSelector) string {
	l := "RootRoute " + alias
	if sel == nil || len(sel.prefixes) > 0 || pre != "" {
		if pre != "" {
			l += " PrefixSelectorRoute[" + strconv.Quote(pre) + "]"
		} else if sel != nil {
			l += " PrefixSelectorRoute[wildcard]"
		}
	}
	return l
}

// finish applies mcrouter's root rewriting of error replies.
func (r *root) finish(tc *traceCtx, req *mc.Request, rep *mc.Reply) {
	if !rep.Result.IsError() {
		return
	}
	o := &r.s.opts
	switch req.Op.Group() {
	case mc.GroupGetLike:
		if o.MissOnGetErrors {
			orig := rep.Result
			if tc != nil {
				tc.note("RootRoute: " + orig.String() + " → notfound (miss_on_get_errors)")
			}
			defaultReply(rep, req.Op)
			rep.Message = "Error reply transformed into miss due to miss_on_get_errors. Original reply result: " + orig.FullName()
			return
		}
	case mc.GroupArithmeticLike:
		if o.MissOnArithErrors {
			if tc != nil {
				tc.note("RootRoute: " + rep.Result.String() + " → notfound (miss_on_arith_errors)")
			}
			defaultReply(rep, req.Op)
			return
		}
	}
	if o.GroupRemoteErrors {
		rep.Reset()
		rep.Result = mc.ResRemoteError
	}
}

func (r *root) flush(ctx context.Context, tc *traceCtx, req *mc.Request, rep *mc.Reply) {
	if !r.s.opts.EnableFlushCmd || r.flushAll == nil {
		if tc != nil {
			tc.note("RootRoute: flush_all is disabled")
		}
		errorReply(rep, mc.ResLocalError, "Command disabled")
		return
	}
	if tc != nil {
		ctx = tc.enter("RootRoute: flush_all → every destination")
	}
	r.flushAll.Route(ctx, req, rep)
}

func (r *root) describe(w *handlesWriter, req *mc.Request) {
	w.nested("root", func() {
		if req.Op == mc.OpFlushAll {
			if r.flushAll != nil && r.s.opts.EnableFlushCmd {
				r.flushAll.describe(w, req)
			}
			return
		}
		pl := routingPrefixLen(req.Key)
		for _, t := range r.targets(string(req.Key[:pl]), routingKey(req.Key)) {
			t.h.describe(w, req)
		}
	})
}
