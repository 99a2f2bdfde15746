package route

import (
	"context"
	"strconv"
	"strings"

	"github.com/mcroute/mcroute/runtime/hash"
	"github.com/mcroute/mcroute/runtime/mc"
)

// node is a built route handle.
type node interface {
	Handler
	// describe writes the route_handles lines of the handle and of the
	// children req would traverse.
	describe(w *handlesWriter, req *mc.Request)
}

// indexSelector is implemented by handles that pick one of their children by
// hashing (mcrouter's SelectionRoute); DeterministicOrderPolicy and
// RendezvousPolicy skip the child the normal route selected.
type indexSelector interface {
	selectedIndex(req *mc.Request) int
}

// selectedIndex returns the index h would select for req, or 0 (mcrouter's
// default when no selection happened).
func selectedIndex(h node, req *mc.Request) int {
	if s, ok := h.(indexSelector); ok {
		return s.selectedIndex(req)
	}
	return 0
}

// handlesWriter builds route_handles text.
type handlesWriter struct {
	b     strings.Builder
	depth int
}

func (w *handlesWriter) line(name string) {
	for range w.depth {
		w.b.WriteByte(' ')
	}
	w.b.WriteString(name)
	w.b.WriteByte('\n')
}

// nested writes name, then runs f one level deeper.
func (w *handlesWriter) nested(name string, f func()) {
	w.line(name)
	w.depth++
	f()
	w.depth--
}

func (w *handlesWriter) String() string { return w.b.String() }

func describeAll(w *handlesWriter, req *mc.Request, hs []node) {
	for _, h := range hs {
		h.describe(w, req)
	}
}

// routingPrefixLen returns the length of the key's routing prefix: up to and
// including the third '/' when the key starts with '/' and has two more.
func routingPrefixLen(key []byte) int {
	if len(key) == 0 || key[0] != '/' {
		return 0
	}
	n := 0
	for i := 1; i < len(key); i++ {
		if key[i] == '/' {
			n++
			if n == 2 {
				return i + 1
			}
		}
	}
	return 0
}

// destHandler is mcrouter's DestinationRoute: one pool server. A PoolRoute
// builds its own instances (sharing the Destination) so that it can carry
// the asynclog behaviour of its pool.
type destHandler struct {
	s        *shared
	dest     Destination
	info     *DestInfo
	asynclog string // non-empty under a PoolRoute with asynclog
	name     string // route_handles name
}

func newDestHandler(s *shared, d Destination, info *DestInfo, asynclog string) *destHandler {
	name := "host|pool=" + info.Pool + "|id=" + strconv.Itoa(info.Index) + "|ap=" + info.AccessPoint() +
		"|timeout=" + strconv.Itoa(info.TimeoutMs) + "ms|keep_routing_prefix=" + strconv.FormatBool(info.KeepRoutingPrefix)
	return &destHandler{s: s, dest: d, info: info, asynclog: asynclog, name: name}
}

func (d *destHandler) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	key := req.Key
	if !d.info.KeepRoutingPrefix {
		key = key[routingPrefixLen(key):]
	}
	if req.Failover {
		key = failoverTagged(req.Key, key)
	}
	rep.Reset()
	if tc := traceOf(ctx); tc != nil {
		if tc.t.DryRun {
			rep.Result = req.Op.DefaultResult()
		} else {
			d.dest.Send(ctx, req, key, rep)
		}
		tc.hop(d, req, key, rep.Result)
		if d.spool(req, rep) {
			tc.note("asynclog:" + d.asynclog + ": failed delete answered NOT_FOUND (not spooled)")
		}
		return
	}
	d.dest.Send(ctx, req, key, rep)
	d.spool(req, rep)
}

// failoverTag is what mcrouter appends to the key of a request sent on a
// failover path of a FailoverRoute with failover_tag
// (carbon::detail::setRequestFailover).
const failoverTag = ":failover=1"

// failoverTagged returns key, the key to put on the wire for full, with the
// failover tag appended when full has a hash stop (so that the routing key,
// and the servers chosen, stay the same) and the result fits in 250 bytes;
// otherwise key unchanged, as mcrouter does.
func failoverTagged(full, key []byte) []byte {
	prefix, rk := hash.RoutingKey(full)
	if len(prefix)+len(rk) == len(full) || len(key)+len(failoverTag) > 250 {
		return key
	}
	out := make([]byte, 0, len(key)+len(failoverTag))
	return append(append(out, key...), failoverTag...)
}

// spool applies mcrouter's asynclog: a delete that failed with a
// failover-class error is answered NOT_FOUND. mcrouter also writes it to a
// spool file for later replay; mcroute only counts it.
func (d *destHandler) spool(req *mc.Request, rep *mc.Reply) bool {
	if d.asynclog == "" || req.Op != mc.OpDelete || !rep.Result.IsFailoverError() {
		return false
	}
	d.s.stats.asynclog.Add(1)
	rep.Reset()
	rep.Result = mc.ResNotFound
	return true
}

func (d *destHandler) describe(w *handlesWriter, _ *mc.Request) { w.line(d.name) }

// errorRoute answers every request with an error.
type errorRoute struct {
	s       *shared
	result  mc.Result
	message string
	logging bool
}

func (e *errorRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	if tc := traceOf(ctx); tc != nil {
		tc.note("ErrorRoute " + e.result.String() + " " + strconv.Quote(e.message))
	}
	if e.logging {
		e.s.log.Debug("ErrorRoute reply", "op", req.Op.String(), "result", e.result.String(), "message", e.message)
	}
	rep.Reset()
	rep.Result = e.result
	rep.Message = e.message
}

func (e *errorRoute) describe(w *handlesWriter, _ *mc.Request) {
	name := "error"
	if e.message != "" {
		name += "|" + e.message
	}
	w.line(name)
}

// nullRoute answers the default reply; DevNullRoute also counts.
type nullRoute struct {
	s   *shared
	dev bool
}

func (n *nullRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	if n.dev {
		n.s.stats.devNull.Add(1)
	}
	if tc := traceOf(ctx); tc != nil {
		tc.note(n.kind() + " → " + req.Op.DefaultResult().String())
	}
	defaultReply(rep, req.Op)
}

func (n *nullRoute) kind() string {
	if n.dev {
		return "DevNullRoute"
	}
	return "NullRoute"
}

func (n *nullRoute) describe(w *handlesWriter, _ *mc.Request) {
	if n.dev {
		w.line("devnull")
	} else {
		w.line("null")
	}
}

// unsupported stands for a route kind mcroute reads but does not execute.
type unsupported struct {
	s    *shared
	kind string
	msg  string
}

func newUnsupported(s *shared, kind string) *unsupported {
	return &unsupported{s: s, kind: kind, msg: "mcroute: " + kind + " is not supported by mcroute serve"}
}

func (u *unsupported) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	u.s.stats.unsupported.Add(1)
	if tc := traceOf(ctx); tc != nil {
		tc.note(u.kind + ": not supported → local_error")
	}
	rep.Reset()
	rep.Result = mc.ResLocalError
	rep.Message = u.msg
}

func (u *unsupported) describe(w *handlesWriter, _ *mc.Request) { w.line("unsupported|" + u.kind) }
