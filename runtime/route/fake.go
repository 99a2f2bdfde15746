package route

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/mcroute/mcroute/runtime/mc"
)

// Fake is a recording world of fake servers for explain, test and simulate:
// its Dest method (pass it as Options.Dest) returns destinations that never
// touch the network, answer like healthy memcached servers by default, and
// record every request they receive.
//
// Servers are named in the maps below by their address as written in the
// pool ("10.0.0.1:11211"), by host:port, or by "pool[index]". Set the maps
// before routing, or change them with the Set* methods while routing. A
// Fake is safe for concurrent use.
type Fake struct {
	// Down servers answer connect_error.
	Down map[string]bool
	// Tko servers answer tko (mcrouter's answer for a server marked down).
	Tko map[string]bool
	// Timeout servers answer timeout.
	Timeout map[string]bool
	// Miss servers answer get-like requests and deletes with notfound.
	Miss map[string]bool
	// Results force a server's result for every operation.
	Results map[string]mc.Result
	// Latency delays a server's answers (honouring the context).
	Latency map[string]time.Duration
	// Stateful makes each server a tiny memcached: values set are kept and
	// gets miss until a value is stored. Otherwise every get hits, with
	// the server's address as value.
	Stateful bool

	mu    sync.Mutex
	data  map[string]map[string]fakeItem
	calls []FakeCall
}

type fakeItem struct {
	value   string
	flags   uint32
	exptime int64
}

// FakeCall is one request a fake server received.
type FakeCall struct {
	// Dest is the server.
	Dest DestInfo
	// Op, Key (as sent), Value, Flags and Exptime are the request's.
	Op      mc.Op
	Key     string
	Value   string
	Flags   uint32
	Exptime int64
	// Result is what the fake answered.
	Result mc.Result
}

// NewFake returns a Fake whose servers are all healthy.
func NewFake() *Fake {
	return &Fake{
		Down: map[string]bool{}, Tko: map[string]bool{}, Timeout: map[string]bool{}, Miss: map[string]bool{},
		Results: map[string]mc.Result{}, Latency: map[string]time.Duration{},
	}
}

// Dest returns the fake destination of one server; its signature fits
// Options.Dest.
func (f *Fake) Dest(info DestInfo) (Destination, error) {
	return &fakeDest{f: f, info: info, names: [3]string{info.Server, info.Addr.HostPort(), info.String()}}, nil
}

// Calls returns the requests received so far, in order.
func (f *Fake) Calls() []FakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FakeCall(nil), f.calls...)
}

// Reset forgets the recorded calls and stored data (the maps are kept).
func (f *Fake) Reset() {
	f.mu.Lock()
	f.calls, f.data = nil, nil
	f.mu.Unlock()
}

// ResetCalls forgets the recorded calls only.
func (f *Fake) ResetCalls() {
	f.mu.Lock()
	f.calls = nil
	f.mu.Unlock()
}

// SetDown marks server down (connect_error) or up.
func (f *Fake) SetDown(server string, down bool) { f.set(&f.Down, server, down) }

// SetMiss makes server miss (or hit) on gets.
func (f *Fake) SetMiss(server string, miss bool) { f.set(&f.Miss, server, miss) }

// SetTko marks server TKO or not.
func (f *Fake) SetTko(server string, tko bool) { f.set(&f.Tko, server, tko) }

func (f *Fake) set(m *map[string]bool, server string, v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if *m == nil {
		*m = map[string]bool{}
	}
	(*m)[server] = v
}

// Store puts a value on a server, for stateful fakes; server is the address
// as written in the pool.
func (f *Fake) Store(server, key, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.store(server, key, fakeItem{value: value})
}

func (f *Fake) store(server, key string, it fakeItem) {
	if f.data == nil {
		f.data = map[string]map[string]fakeItem{}
	}
	m := f.data[server]
	if m == nil {
		m = map[string]fakeItem{}
		f.data[server] = m
	}
	m[key] = it
}

// Load returns a stored value (stateful fakes); server is the address as
// written in the pool.
func (f *Fake) Load(server, key string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it, ok := f.data[server][key]
	return it.value, ok
}

type fakeDest struct {
	f     *Fake
	info  DestInfo
	names [3]string
}

func (d *fakeDest) has(m map[string]bool) bool {
	return m[d.names[0]] || m[d.names[1]] || m[d.names[2]]
}

func (d *fakeDest) Send(ctx context.Context, req *mc.Request, key []byte, rep *mc.Reply) {
	f := d.f
	f.mu.Lock()
	var lat time.Duration
	for _, n := range d.names {
		if v, ok := f.Latency[n]; ok {
			lat = v
			break
		}
	}
	f.mu.Unlock()
	if lat > 0 && !sleep(ctx, lat) {
		rep.Result = mc.ResTimeout
		f.record(d, req, key, rep.Result)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	d.answer(req, key, rep)
	f.calls = append(f.calls, FakeCall{Dest: d.info, Op: req.Op, Key: string(key), Value: string(req.Value),
		Flags: req.Flags, Exptime: req.Exptime, Result: rep.Result})
}

func (f *Fake) record(d *fakeDest, req *mc.Request, key []byte, res mc.Result) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, FakeCall{Dest: d.info, Op: req.Op, Key: string(key), Value: string(req.Value),
		Flags: req.Flags, Exptime: req.Exptime, Result: res})
}

// answer fills rep; f.mu is held.
func (d *fakeDest) answer(req *mc.Request, key []byte, rep *mc.Reply) {
	f := d.f
	for _, n := range d.names {
		if r, ok := f.Results[n]; ok {
			rep.Result = r
			return
		}
	}
	switch {
	case d.has(f.Down):
		rep.Result = mc.ResConnectError
		return
	case d.has(f.Tko):
		rep.Result = mc.ResTko
		return
	case d.has(f.Timeout):
		rep.Result = mc.ResTimeout
		return
	}
	miss := d.has(f.Miss)
	op := req.Op
	if !f.Stateful {
		switch {
		case op.IsGetLike():
			if miss {
				rep.Result = mc.ResNotFound
				return
			}
			rep.Result = mc.ResFound
			rep.Value = append(rep.Value[:0], d.info.Server...)
		case op.IsUpdateLike():
			rep.Result = mc.ResStored
		case op == mc.OpDelete:
			rep.Result = mc.ResDeleted
			if miss {
				rep.Result = mc.ResNotFound
			}
		case op == mc.OpTouch:
			rep.Result = mc.ResTouched
		case op == mc.OpIncr || op == mc.OpDecr:
			rep.Result = mc.ResStored
			rep.Value = append(rep.Value[:0], '0')
		default:
			rep.Result = mc.ResOK
		}
		return
	}
	server := d.info.Server
	k := string(key)
	it, ok := f.data[server][k]
	switch op {
	case mc.OpGet, mc.OpGets, mc.OpGat, mc.OpGats, mc.OpLeaseGet, mc.OpMetaget:
		if !ok || miss {
			rep.Result = mc.ResNotFound
			return
		}
		rep.Result = mc.ResFound
		rep.Value = append(rep.Value[:0], it.value...)
		rep.Flags = it.flags
	case mc.OpSet, mc.OpLeaseSet, mc.OpCas:
		f.store(server, k, fakeItem{string(req.Value), req.Flags, req.Exptime})
		rep.Result = mc.ResStored
	case mc.OpAdd:
		if ok {
			rep.Result = mc.ResNotStored
			return
		}
		f.store(server, k, fakeItem{string(req.Value), req.Flags, req.Exptime})
		rep.Result = mc.ResStored
	case mc.OpReplace, mc.OpAppend, mc.OpPrepend:
		if !ok {
			rep.Result = mc.ResNotStored
			return
		}
		v := string(req.Value)
		switch op {
		case mc.OpAppend:
			v = it.value + v
		case mc.OpPrepend:
			v = v + it.value
		}
		f.store(server, k, fakeItem{v, req.Flags, req.Exptime})
		rep.Result = mc.ResStored
	case mc.OpDelete:
		if !ok || miss {
			rep.Result = mc.ResNotFound
			return
		}
		delete(f.data[server], k)
		rep.Result = mc.ResDeleted
	case mc.OpTouch:
		if !ok {
			rep.Result = mc.ResNotFound
			return
		}
		it.exptime = req.Exptime
		f.store(server, k, it)
		rep.Result = mc.ResTouched
	case mc.OpIncr, mc.OpDecr:
		if !ok {
			rep.Result = mc.ResNotFound
			return
		}
		n, err := strconv.ParseUint(it.value, 10, 64)
		if err != nil {
			rep.Result = mc.ResClientError
			rep.Message = "cannot increment or decrement non-numeric value"
			return
		}
		if op == mc.OpIncr {
			n += req.Delta
		} else if req.Delta > n {
			n = 0
		} else {
			n -= req.Delta
		}
		it.value = strconv.FormatUint(n, 10)
		f.store(server, k, it)
		rep.Result = mc.ResStored
		rep.Value = append(rep.Value[:0], it.value...)
	case mc.OpFlushAll:
		delete(f.data, server)
		rep.Result = mc.ResOK
	default:
		rep.Result = mc.ResOK
	}
}
