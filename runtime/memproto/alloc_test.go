package memproto

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mcroute/mcroute/runtime/mc"
)

// loopReader returns data over and over, filling every read: a client or
// backend that pipelines the same message forever.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], l.data[l.off:])
		n += c
		l.off = (l.off + c) % len(l.data)
	}
	return n, nil
}

var value100 = strings.Repeat("v", 100)

var commandInputs = []struct{ name, in string }{
	{"get", "get foo:bar:1234\r\n"},
	{"get10", "get k0 k1 k2 k3 k4 k5 k6 k7 k8 k9\r\n"},
	{"set100", "set foo:bar:1234 0 0 100\r\n" + value100 + "\r\n"},
	{"mg", "mg foo:bar:1234 v f k O123\r\n"},
	{"ms100", "ms foo:bar:1234 100 T60 F3 q\r\n" + value100 + "\r\n"},
	{"mgb64", "mg Zm9vOmJhcjoxMjM0 b v\r\n"},
}

var replyInputs = []struct {
	name string
	op   mc.Op
	meta byte
	in   string
}{
	{"get_hit100", mc.OpGet, 0, "VALUE foo:bar:1234 0 100\r\n" + value100 + "\r\nEND\r\n"},
	{"get_miss", mc.OpGet, 0, "END\r\n"},
	{"set", mc.OpSet, 0, "STORED\r\n"},
	{"mg_hit100", mc.OpGet, 'g', "VA 100 f0 kfoo:bar:1234 O123\r\n" + value100 + "\r\n"},
	{"incr", mc.OpIncr, 0, "12345\r\n"},
}

// TestZeroAllocs proves that the steady-state hot paths do not allocate.
func TestZeroAllocs(t *testing.T) {
	for _, in := range commandInputs {
		r := NewReader(&loopReader{data: []byte(in.in)})
		var cmd Command
		var req mc.Request
		if err := r.ReadCommand(&cmd); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(1000, func() {
			if err := r.ReadCommand(&cmd); err != nil {
				t.Fatal(err)
			}
			cmd.Request(0, &req)
		})
		if allocs != 0 {
			t.Errorf("ReadCommand %s: %v allocs", in.name, allocs)
		}
	}
	for _, in := range replyInputs {
		rr := NewReplyReader(&loopReader{data: []byte(in.in)})
		var rep mc.Reply
		allocs := testing.AllocsPerRun(1000, func() {
			if err := rr.ReadReply(in.op, in.meta, &rep); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("ReadReply %s: %v allocs", in.name, allocs)
		}
	}
	buf := make([]byte, 0, 4096)
	hit := mc.Reply{Result: mc.ResFound, Value: []byte(value100), Flags: 3, CAS: 99}
	reqs := []mc.Request{
		{Op: mc.OpGet, Key: []byte("foo:bar:1234")},
		{Op: mc.OpGets, Key: []byte("foo:bar:1234")},
		{Op: mc.OpGet, Meta: 'g', Key: []byte("foo:bar:1234"), MetaFlags: []byte("v f s k O123")},
		{Op: mc.OpGet, Meta: 'g', Key: []byte("\x01\x02\x03"), MetaFlags: []byte("b v k")},
		{Op: mc.OpSet, Key: []byte("foo:bar:1234"), Value: []byte(value100), Exptime: 60},
		{Op: mc.OpSet, Meta: 's', Key: []byte("foo:bar:1234"), Value: []byte(value100), MetaFlags: []byte("T60 F3 q"), Exptime: 60, Flags: 3},
	}
	for _, req := range reqs {
		allocs := testing.AllocsPerRun(1000, func() {
			buf = AppendReply(buf[:0], &req, &hit)
			buf = AppendRequest(buf[:0], &req, req.Key)
		})
		if allocs != 0 {
			t.Errorf("AppendReply/AppendRequest %s %q: %v allocs", req.Op, req.MetaFlags, allocs)
		}
	}
}

func BenchmarkReadCommand(b *testing.B) {
	for _, in := range commandInputs {
		b.Run(in.name, func(b *testing.B) {
			r := NewReader(&loopReader{data: []byte(in.in)})
			var cmd Command
			var req mc.Request
			b.ReportAllocs()
			b.SetBytes(int64(len(in.in)))
			for b.Loop() {
				if err := r.ReadCommand(&cmd); err != nil {
					b.Fatal(err)
				}
				cmd.Request(0, &req)
			}
		})
	}
}

func BenchmarkReadReply(b *testing.B) {
	for _, in := range replyInputs {
		b.Run(in.name, func(b *testing.B) {
			rr := NewReplyReader(&loopReader{data: []byte(in.in)})
			var rep mc.Reply
			b.ReportAllocs()
			b.SetBytes(int64(len(in.in)))
			for b.Loop() {
				if err := rr.ReadReply(in.op, in.meta, &rep); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendReply(b *testing.B) {
	hit := mc.Reply{Result: mc.ResFound, Value: []byte(value100), Flags: 3, CAS: 99}
	cases := []struct {
		name string
		req  mc.Request
		rep  mc.Reply
	}{
		{"get_hit100", mc.Request{Op: mc.OpGet, Key: []byte("foo:bar:1234")}, hit},
		{"gets_hit100", mc.Request{Op: mc.OpGets, Key: []byte("foo:bar:1234")}, hit},
		{"stored", mc.Request{Op: mc.OpSet, Key: []byte("foo:bar:1234")}, mc.Reply{Result: mc.ResStored}},
		{"mg_hit100", mc.Request{Op: mc.OpGet, Meta: 'g', Key: []byte("foo:bar:1234"), MetaFlags: []byte("v f k O123")},
			mc.Reply{Result: mc.ResFound, Value: []byte(value100), MetaFlags: []byte("f0 kfoo:bar:1234 O123")}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendReply(buf[:0], &c.req, &c.rep)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func BenchmarkAppendRequest(b *testing.B) {
	cases := []struct {
		name string
		req  mc.Request
	}{
		{"get", mc.Request{Op: mc.OpGet, Key: []byte("foo:bar:1234")}},
		{"set100", mc.Request{Op: mc.OpSet, Key: []byte("foo:bar:1234"), Value: []byte(value100), Exptime: 60}},
		{"mg", mc.Request{Op: mc.OpGet, Meta: 'g', Key: []byte("foo:bar:1234"), MetaFlags: []byte("v f k O123 q")}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendRequest(buf[:0], &c.req, c.req.Key)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

// BenchmarkProxyPath is one get hit through the whole protocol path of a
// proxy: read the client command, write the backend request, read the
// backend reply, write the client reply.
func BenchmarkProxyPath(b *testing.B) {
	r := NewReader(&loopReader{data: []byte("get foo:bar:1234\r\n")})
	rr := NewReplyReader(&loopReader{data: []byte("VALUE foo:bar:1234 0 100\r\n" + value100 + "\r\nEND\r\n")})
	var cmd Command
	var req mc.Request
	var rep mc.Reply
	out := make([]byte, 0, 4096)
	wire := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		if err := r.ReadCommand(&cmd); err != nil {
			b.Fatal(err)
		}
		cmd.Request(0, &req)
		wire = AppendRequest(wire[:0], &req, req.Key)
		if err := rr.ReadReply(req.Op, req.Meta, &rep); err != nil {
			b.Fatal(err)
		}
		out = AppendReply(out[:0], &req, &rep)
		out = AppendEnd(out)
	}
	_ = bytes.MinRead
}
