package route

import (
	"context"
	"strconv"

	"github.com/mcroute/mcroute/runtime/mc"
)

// The All* routes send a request to every child. Without tracing and without
// Options.Go they do so in parallel on the worker pool with pooled state (no
// allocation per request); otherwise children are routed one after another,
// in child order, and what would complete after the reply is sent as
// background work.

type allKind uint8

const (
	allSync allKind = iota
	allAsync
	allInitial
	allFastest
	allMajority
)

var allNames = [...]string{"AllSyncRoute", "AllAsyncRoute", "AllInitialRoute", "AllFastestRoute", "AllMajorityRoute"}
var allHandleNames = [...]string{"all-sync", "all-async", "all-initial", "all-fastest", "all-majority"}

type allRoute struct {
	s        *shared
	kind     allKind
	children []node
}

func (a *allRoute) describe(w *handlesWriter, req *mc.Request) {
	w.nested(allHandleNames[a.kind], func() { describeAll(w, req, a.children) })
}

func (a *allRoute) Route(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	tc := traceOf(ctx)
	if a.kind == allAsync {
		if tc != nil {
			tc.note("AllAsyncRoute → all " + strconv.Itoa(len(a.children)) + " children in background")
			ctx = tc.child()
		}
		a.s.asyncAll(ctx, req, a.children)
		defaultReply(rep, req.Op)
		return
	}
	if a.s.sequential(tc) {
		a.routeSeq(ctx, tc, req, rep)
		return
	}
	switch a.kind {
	case allSync:
		routeWorst(ctx, a.s, a.children, req, rep)
	case allInitial:
		a.routeInitial(ctx, req, rep)
	case allFastest:
		a.routeFastest(ctx, req, rep)
	case allMajority:
		a.routeMajority(ctx, req, rep)
	}
}

// waitDone receives the next finished job index, or -1 if ctx ends first.
func waitDone(ctx context.Context, b *batch) int {
	done := ctx.Done()
	if done == nil {
		return <-b.done
	}
	select {
	case i := <-b.done:
		return i
	case <-done:
		return -1
	}
}

func canceled(ctx context.Context, rep *mc.Reply) {
	res := mc.ResAborted
	if ctx.Err() == context.DeadlineExceeded {
		res = mc.ResDeadlineExceeded
	}
	errorReply(rep, res, "mcroute: request canceled: "+ctx.Err().Error())
}

// routeWorst sends req to every child in parallel (child 0 inline) and
// answers the worst reply (ties: lowest child index). AllSyncRoute and
// MigrateRoute's double deletes use it.
func routeWorst(ctx context.Context, s *shared, children []node, req *mc.Request, rep *mc.Reply) {
	n := len(children)
	b := s.newBatch(ctx, req, n, true)
	for i, c := range children {
		b.jobs[i].h = c
	}
	b.refs.Store(int32(n)) // n-1 jobs + the caller
	for i := 1; i < n; i++ {
		s.start(&b.jobs[i])
	}
	b.jobs[0].rep.Reset()
	children[0].Route(ctx, req, &b.jobs[0].rep)
	for k := 1; k < n; k++ {
		if waitDone(ctx, b) < 0 {
			canceled(ctx, rep)
			b.release()
			return
		}
	}
	worst := 0
	for i := 1; i < n; i++ {
		if b.jobs[i].rep.Result.WorseThan(b.jobs[worst].rep.Result) {
			worst = i
		}
	}
	rep.CopyFrom(&b.jobs[worst].rep)
	b.release()
}

func (a *allRoute) routeInitial(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	n := len(a.children)
	b := a.s.newBatch(ctx, req, n-1, false)
	for i := range b.jobs {
		b.jobs[i].h = a.children[i+1]
	}
	b.refs.Store(int32(n - 1))
	a.s.stats.background.Add(uint64(n - 1))
	for i := range b.jobs {
		a.s.start(&b.jobs[i])
	}
	a.children[0].Route(ctx, req, rep)
}

func (a *allRoute) routeFastest(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	n := len(a.children)
	b := a.s.newBatch(ctx, req, n, true)
	for i, c := range a.children {
		b.jobs[i].h = c
	}
	b.refs.Store(int32(n + 1))
	for i := range b.jobs {
		a.s.start(&b.jobs[i])
	}
	for k := 0; k < n; k++ {
		i := waitDone(ctx, b)
		if i < 0 {
			canceled(ctx, rep)
			break
		}
		if k == n-1 || !b.jobs[i].rep.Result.IsFailoverError() {
			rep.CopyFrom(&b.jobs[i].rep)
			break
		}
	}
	b.release()
}

// majority tracks AllMajorityRoute's vote: the reply whose result reached
// the highest count, ties going to the worse result.
type majority struct {
	counts [64]int
	best   int // index of the chosen reply, -1 before the first
	count  int
	need   int
}

func (m *majority) add(i int, res mc.Result, bestRes mc.Result) bool {
	m.counts[res&63]++
	c := m.counts[res&63]
	if m.best < 0 || c > m.count || (c == m.count && res.WorseThan(bestRes)) {
		m.best, m.count = i, c
		return true
	}
	return false
}

func (a *allRoute) routeMajority(ctx context.Context, req *mc.Request, rep *mc.Reply) {
	n := len(a.children)
	b := a.s.newBatch(ctx, req, n, true)
	for i, c := range a.children {
		b.jobs[i].h = c
	}
	b.refs.Store(int32(n)) // n-1 jobs + the caller
	for i := 1; i < n; i++ {
		a.s.start(&b.jobs[i])
	}
	b.jobs[0].rep.Reset()
	a.children[0].Route(ctx, req, &b.jobs[0].rep)
	m := majority{best: -1, need: n/2 + 1}
	m.add(0, b.jobs[0].rep.Result, 0)
	for k := 1; k < n && m.count < m.need; k++ {
		i := waitDone(ctx, b)
		if i < 0 {
			canceled(ctx, rep)
			b.release()
			return
		}
		m.add(i, b.jobs[i].rep.Result, b.jobs[m.best].rep.Result)
	}
	rep.CopyFrom(&b.jobs[m.best].rep)
	b.release()
}

// routeSeq is the sequential form of every All* route.
func (a *allRoute) routeSeq(ctx context.Context, tc *traceCtx, req *mc.Request, rep *mc.Reply) {
	name := allNames[a.kind]
	n := len(a.children)
	route := func(i int, r *mc.Reply) {
		cctx := ctx
		if tc != nil {
			cctx = tc.enter(childLabel(name, i))
		}
		r.Reset()
		a.children[i].Route(cctx, req, r)
	}
	rest := func(from int) {
		if from >= n {
			return
		}
		if tc != nil {
			for i := from; i < n; i++ {
				tc.background().note(childLabel(name, i) + " (background)")
				var r mc.Reply
				a.children[i].Route(tc.background().child(), req, &r)
			}
			a.s.stats.background.Add(uint64(n - from))
			return
		}
		a.s.asyncAll(ctx, req, a.children[from:])
	}
	switch a.kind {
	case allInitial:
		route(0, rep)
		rest(1)
	case allFastest:
		for i := 0; i < n; i++ {
			route(i, rep)
			if !rep.Result.IsFailoverError() {
				rest(i + 1)
				return
			}
		}
	case allSync:
		route(0, rep)
		var r mc.Reply
		for i := 1; i < n; i++ {
			route(i, &r)
			if r.Result.WorseThan(rep.Result) {
				rep.CopyFrom(&r)
			}
		}
		if tc != nil {
			tc.note(name + " → worst reply " + rep.Result.String())
		}
	case allMajority:
		replies := make([]mc.Reply, n)
		m := majority{best: -1, need: n/2 + 1}
		i := 0
		for ; i < n && m.count < m.need; i++ {
			route(i, &replies[i])
			var bestRes mc.Result
			if m.best >= 0 {
				bestRes = replies[m.best].Result
			}
			m.add(i, replies[i].Result, bestRes)
		}
		rep.CopyFrom(&replies[m.best])
		if tc != nil {
			tc.note(name + " → " + rep.Result.String() + " (" + strconv.Itoa(m.count) + " of " + strconv.Itoa(n) + ")")
		}
		rest(i)
	}
}
