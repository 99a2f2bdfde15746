package route

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/mcroute/mcroute/runtime/mc"
)

// Trace records how a request was routed: every handle entered, with a label
// saying what it decided ("OperationSelectorRoute[get]", "RandomRoute → child
// 1", "MissFailoverRoute child 0 notfound → child 1"), and every destination
// reached, in order. Attach it to a context with WithTrace.
//
// A traced request is routed sequentially, children in order and background
// work inline (marked Background), so that a trace is deterministic; tracing
// costs nothing when no Trace is attached.
//
// A Trace is safe for concurrent use; reuse one with Reset.
type Trace struct {
	// DryRun makes destinations record the request and answer mcrouter's
	// default reply (NOT_FOUND, NOT_STORED for updates) without calling
	// Destination.Send: this is how __mcrouter__.route(op,key) is answered.
	// Latency injection does not sleep either.
	DryRun bool

	mu     sync.Mutex
	events []Event
}

// Event is one line of a trace.
type Event struct {
	// Depth is the nesting level, 0 for the root.
	Depth int
	// Label says what the handle did, or describes the destination hop.
	Label string
	// Background is set for work done after (or regardless of) the reply.
	Background bool
	// Hop is set when the event is a destination being reached.
	Hop *Hop
}

// Hop is one request reaching one destination.
type Hop struct {
	// Pool and Index identify the server; Server is its address as written,
	// Addr its host:port (or unix:PATH) as __mcrouter__.route prints it.
	Pool   string
	Index  int
	Server string
	Addr   string
	// Op and Key are what was sent (Key without the routing prefix unless
	// the pool keeps it).
	Op  mc.Op
	Key string
	// Background is set for background sends (shadows, async copies).
	Background bool
	// Result is the destination's answer (the default reply in a dry run).
	Result mc.Result
	// DryRun is set when the request was recorded but not sent.
	DryRun bool
}

// WithTrace returns a context whose requests are recorded in t.
func WithTrace(ctx context.Context, t *Trace) context.Context {
	return &traceCtx{Context: ctx, t: t}
}

// TraceFrom returns the Trace attached to ctx, or nil.
func TraceFrom(ctx context.Context) *Trace {
	t, _ := ctx.Value(traceKey{}).(*Trace)
	return t
}

// Events returns a copy of the recorded events.
func (t *Trace) Events() []Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Event(nil), t.events...)
}

// Hops returns the destinations reached, in order.
func (t *Trace) Hops() []Hop {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Hop
	for _, e := range t.events {
		if e.Hop != nil {
			out = append(out, *e.Hop)
		}
	}
	return out
}

// Reset forgets the recorded events (DryRun is kept).
func (t *Trace) Reset() {
	t.mu.Lock()
	t.events = nil
	t.mu.Unlock()
}

// String renders the events, one per line, indented two spaces per level;
// background events are prefixed with "& ".
func (t *Trace) String() string {
	var b strings.Builder
	for _, e := range t.Events() {
		b.WriteString(strings.Repeat("  ", e.Depth))
		if e.Background {
			b.WriteString("& ")
		}
		b.WriteString(e.Label)
		b.WriteByte('\n')
	}
	return b.String()
}

func (t *Trace) add(e Event) {
	t.mu.Lock()
	t.events = append(t.events, e)
	t.mu.Unlock()
}

type traceKey struct{}

// traceCtx is the context of a traced request. Handlers find it with a type
// assertion (traceOf), which costs nothing measurable when tracing is off.
type traceCtx struct {
	context.Context
	t     *Trace
	depth int
	bg    bool
}

func (c *traceCtx) Value(key any) any {
	if _, ok := key.(traceKey); ok {
		return c.t
	}
	return c.Context.Value(key)
}

func traceOf(ctx context.Context) *traceCtx {
	tc, _ := ctx.(*traceCtx)
	return tc
}

// note records label at the context's depth.
func (c *traceCtx) note(label string) {
	c.t.add(Event{Depth: c.depth, Label: label, Background: c.bg})
}

// enter records label and returns the context for the handle's children.
func (c *traceCtx) enter(label string) *traceCtx {
	c.note(label)
	return c.child()
}

func (c *traceCtx) child() *traceCtx {
	return &traceCtx{Context: c.Context, t: c.t, depth: c.depth + 1, bg: c.bg}
}

func (c *traceCtx) background() *traceCtx {
	return &traceCtx{Context: c.Context, t: c.t, depth: c.depth, bg: true}
}

func (c *traceCtx) hop(d *destHandler, req *mc.Request, key []byte, res mc.Result) {
	h := &Hop{
		Pool: d.info.Pool, Index: d.info.Index, Server: d.info.Server, Addr: d.info.Addr.HostPort(),
		Op: req.Op, Key: string(key), Background: c.bg, Result: res, DryRun: c.t.DryRun,
	}
	var b strings.Builder
	b.WriteString(d.info.String())
	b.WriteByte(' ')
	b.WriteString(h.Addr)
	b.WriteByte(' ')
	b.WriteString(req.Op.String())
	b.WriteByte(' ')
	b.WriteString(strconv.Quote(h.Key))
	if c.t.DryRun {
		b.WriteString(" (dry run)")
	} else {
		b.WriteString(" → ")
		b.WriteString(res.String())
	}
	c.t.add(Event{Depth: c.depth, Label: b.String(), Background: c.bg, Hop: h})
}

// childLabel formats "Name → child i".
func childLabel(name string, i int) string {
	return name + " → child " + strconv.Itoa(i)
}
