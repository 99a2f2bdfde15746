package route

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcroute/mcroute/runtime/mc"
)

// Concurrency machinery. The hot fan-out routes (AllFastestRoute, AllSync,
// ...) must not allocate per request, so they do not use `go f()` with a
// closure: the per-request state (a copy of the request, one reply per child,
// a completion channel) is a recycled batch, and each child runs on a
// goroutine started without a closure (spawn).

// task is background work: run does the work, finish publishes it.
type task interface {
	run()
	finish()
}

// spawnQ hands tasks to new goroutines: `go runSpawned()` calls a function
// without arguments, which needs no closure, and the runtime recycles the
// goroutines of finished tasks, so starting a task does not allocate. Each
// task sent is matched by exactly one goroutine started.
var spawnQ = make(chan task, 1<<14)

// spawn runs t on a goroutine of its own.
func spawn(t task) {
	select {
	case spawnQ <- t:
		go runSpawned()
	default: // full: pay for a closure
		go func() {
			t.run()
			t.finish()
		}()
	}
}

func runSpawned() {
	t := <-spawnQ
	t.run()
	t.finish()
}

// detachedCtx is the context of work that may outlive the request: never
// canceled, values from the request's context. It lives inside a pooled
// batch so that using it does not allocate.
type detachedCtx struct{ parent context.Context }

func (*detachedCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (*detachedCtx) Done() <-chan struct{}       { return nil }
func (*detachedCtx) Err() error                  { return nil }
func (c *detachedCtx) Value(key any) any {
	if c.parent == nil {
		return nil
	}
	return c.parent.Value(key)
}

// batch is the pooled state of one fan-out: a private copy of the request
// and one job (child, reply) per child.
type batch struct {
	s    *shared
	req  mc.Request
	jobs []job
	done chan int // indices of finished jobs, when wait
	wait bool
	refs atomic.Int32
	dctx detachedCtx
}

type job struct {
	b   *batch
	i   int
	h   node
	rep mc.Reply
}

// Batches are recycled through a channel first: the last reference to a
// batch is often dropped by a worker goroutine, and sync.Pool's per-P cache
// would keep it out of reach of the request goroutines. The sync.Pool takes
// the overflow.
var (
	freeBatches = make(chan *batch, 1024)
	batchPool   = sync.Pool{New: func() any { return new(batch) }}
)

// maxKeptBuffer is the largest value buffer a recycled batch keeps.
const maxKeptBuffer = 64 << 10

func getBatch() *batch {
	select {
	case b := <-freeBatches:
		return b
	default:
		return batchPool.Get().(*batch)
	}
}

func putBatch(b *batch) {
	select {
	case freeBatches <- b:
	default:
		batchPool.Put(b)
	}
}

// newBatch returns a batch of n jobs holding a copy of req. If wait, the
// caller receives finished job indices from b.done. The caller sets each
// job's handler, then refs, then starts jobs.
func (s *shared) newBatch(ctx context.Context, req *mc.Request, n int, wait bool) *batch {
	b := getBatch()
	b.s = s
	copyRequest(&b.req, req)
	b.dctx.parent = ctx
	if cap(b.jobs) < n {
		jobs := make([]job, n)
		copy(jobs, b.jobs[:cap(b.jobs)])
		b.jobs = jobs
	}
	b.jobs = b.jobs[:n]
	for i := range b.jobs {
		j := &b.jobs[i]
		j.b, j.i, j.h = b, i, nil
	}
	b.wait = wait
	if wait && cap(b.done) < n {
		b.done = make(chan int, n)
	}
	return b
}

// copyRequest makes dst a copy of src that owns its bytes, reusing dst's
// buffers.
func copyRequest(dst, src *mc.Request) {
	k, v, m := dst.Key, dst.Value, dst.MetaFlags
	*dst = *src
	dst.Key = append(k[:0], src.Key...)
	dst.Value = append(v[:0], src.Value...)
	dst.MetaFlags = append(m[:0], src.MetaFlags...)
}

func (b *batch) release() {
	if b.refs.Add(-1) != 0 {
		return
	}
	for len(b.done) > 0 {
		<-b.done
	}
	for i := range b.jobs {
		j := &b.jobs[i]
		j.h, j.b = nil, nil
		if cap(j.rep.Value) > maxKeptBuffer {
			j.rep.Value = nil
		}
	}
	if cap(b.req.Value) > maxKeptBuffer {
		b.req.Value = nil
	}
	b.dctx.parent = nil
	b.s = nil
	putBatch(b)
}

func (j *job) run() {
	j.rep.Reset()
	j.h.Route(&j.b.dctx, &j.b.req, &j.rep)
}

func (j *job) finish() {
	b := j.b
	s := b.s
	if b.wait {
		b.done <- j.i
	}
	s.inflight.Add(-1)
	b.release()
}

// start runs j in the background: on Options.Go, inline once the graph is
// closed, else on a worker.
func (s *shared) start(j *job) {
	s.inflight.Add(1)
	switch {
	case s.goFn != nil:
		s.goFn(func() { j.run(); j.finish() })
	case s.closed.Load():
		j.run()
		j.finish()
	default:
		spawn(j)
	}
}

// sequential reports whether fan-outs must route their children one after
// another (traced requests, or Options.Go set).
func (s *shared) sequential(tc *traceCtx) bool { return tc != nil || s.goFn != nil }

// async routes req through h in the background. req is copied. In a traced
// request the work runs inline and is recorded as background.
func (s *shared) async(ctx context.Context, req *mc.Request, h node) {
	s.stats.background.Add(1)
	if tc := traceOf(ctx); tc != nil {
		var r mc.Reply
		h.Route(tc.background(), req, &r)
		return
	}
	b := s.newBatch(ctx, req, 1, false)
	b.jobs[0].h = h
	b.refs.Store(1)
	s.start(&b.jobs[0])
}

// asyncAll routes req through each of hs in the background, sharing one copy
// of req.
func (s *shared) asyncAll(ctx context.Context, req *mc.Request, hs []node) {
	if len(hs) == 0 {
		return
	}
	s.stats.background.Add(uint64(len(hs)))
	if tc := traceOf(ctx); tc != nil {
		bg := tc.background()
		for _, h := range hs {
			var r mc.Reply
			h.Route(bg, req, &r)
		}
		return
	}
	b := s.newBatch(ctx, req, len(hs), false)
	for i, h := range hs {
		b.jobs[i].h = h
	}
	b.refs.Store(int32(len(hs)))
	for i := range b.jobs {
		s.start(&b.jobs[i])
	}
}
