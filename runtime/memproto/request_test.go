package memproto

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mcroute/mcroute/runtime/mc"
)

func TestAppendRequest(t *testing.T) {
	tests := []struct {
		name string
		req  mc.Request
		key  string
		want string
	}{
		{"get", mc.Request{Op: mc.OpGet}, "k", "get k\r\n"},
		{"gets", mc.Request{Op: mc.OpGets}, "k", "gets k\r\n"},
		{"gat", mc.Request{Op: mc.OpGat, Exptime: -5}, "k", "gat -5 k\r\n"},
		{"gats", mc.Request{Op: mc.OpGats, Exptime: 10}, "k", "gats 10 k\r\n"},
		{"set noreply dropped", mc.Request{Op: mc.OpSet, Flags: 3, Exptime: 7, Value: []byte("hello"), NoReply: true}, "k", "set k 3 7 5\r\nhello\r\n"},
		{"add", mc.Request{Op: mc.OpAdd, Value: []byte("")}, "k", "add k 0 0 0\r\n\r\n"},
		{"replace", mc.Request{Op: mc.OpReplace, Value: []byte("v")}, "k", "replace k 0 0 1\r\nv\r\n"},
		{"append", mc.Request{Op: mc.OpAppend, Value: []byte("v")}, "k", "append k 0 0 1\r\nv\r\n"},
		{"prepend", mc.Request{Op: mc.OpPrepend, Value: []byte("v")}, "k", "prepend k 0 0 1\r\nv\r\n"},
		{"cas", mc.Request{Op: mc.OpCas, Value: []byte("v"), CAS: 18446744073709551615}, "k", "cas k 0 0 1 18446744073709551615\r\nv\r\n"},
		{"delete", mc.Request{Op: mc.OpDelete, NoReply: true}, "k", "delete k\r\n"},
		{"incr", mc.Request{Op: mc.OpIncr, Delta: 5}, "k", "incr k 5\r\n"},
		{"decr", mc.Request{Op: mc.OpDecr, Delta: 0}, "k", "decr k 0\r\n"},
		{"touch", mc.Request{Op: mc.OpTouch, Exptime: 100}, "k", "touch k 100\r\n"},
		{"flush_all", mc.Request{Op: mc.OpFlushAll}, "", "flush_all\r\n"},
		{"flush_all delay", mc.Request{Op: mc.OpFlushAll, Exptime: 10}, "", "flush_all 10\r\n"},
		{"version", mc.Request{Op: mc.OpVersion}, "", "version\r\n"},
		{"stats not forwardable", mc.Request{Op: mc.OpStats}, "", ""},
		{"lease-get not forwardable", mc.Request{Op: mc.OpLeaseGet}, "k", ""},
		{"prefix stripped", mc.Request{Op: mc.OpGet, Key: []byte("/a/b/k")}, "k", "get k\r\n"},

		{"mg", mc.Request{Op: mc.OpGet, Meta: 'g'}, "k", "mg k\r\n"},
		{"mg q stripped", mc.Request{Op: mc.OpGet, Meta: 'g', MetaFlags: []byte("v q k O12"), NoReply: true}, "k", "mg k v k O12\r\n"},
		{"mg T rewritten", mc.Request{Op: mc.OpGet, Meta: 'g', MetaFlags: []byte("v  T+30"), Exptime: 30}, "k", "mg k v T30\r\n"},
		{"mg base64", mc.Request{Op: mc.OpGet, Meta: 'g', MetaFlags: []byte("b v k")}, "a1", "mg YTE= b v k\r\n"},
		{"mg base64 binary", mc.Request{Op: mc.OpGet, Meta: 'g', MetaFlags: []byte("b")}, "\x00 \r\n", "mg ACANCg== b\r\n"},
		{"ms", mc.Request{Op: mc.OpSet, Meta: 's', Value: []byte("hello")}, "k", "ms k 5\r\nhello\r\n"},
		{"ms flags", mc.Request{Op: mc.OpSet, Meta: 's', Value: []byte("v"), Flags: 5, Exptime: 9, MetaFlags: []byte("T9 F5 q c")}, "k", "ms k 1 T9 F5 c\r\nv\r\n"},
		{"ms fields added", mc.Request{Op: mc.OpSet, Meta: 's', Value: []byte("v"), Flags: 5, Exptime: 9, CAS: 3}, "k", "ms k 1 T9 F5 C3\r\nv\r\n"},
		{"ms mode", mc.Request{Op: mc.OpAdd, Meta: 's', Value: []byte("v"), MetaFlags: []byte("ME O1 k")}, "k", "ms k 1 ME O1 k\r\nv\r\n"},
		{"ms F wraps", mc.Request{Op: mc.OpSet, Meta: 's', Value: []byte("v"), MetaFlags: []byte("F4294967296")}, "k", "ms k 1 F0\r\nv\r\n"},
		{"md", mc.Request{Op: mc.OpDelete, Meta: 'd', MetaFlags: []byte("q C7 I T30"), CAS: 7, Exptime: 30}, "k", "md k C7 I T30\r\n"},
		{"ma", mc.Request{Op: mc.OpIncr, Meta: 'a', Delta: 1}, "k", "ma k\r\n"},
		{"ma delta", mc.Request{Op: mc.OpDecr, Meta: 'a', Delta: 9, MetaFlags: []byte("MD N0 J5 v")}, "k", "ma k MD N0 J5 v D9\r\n"},
		{"ma D rewritten", mc.Request{Op: mc.OpIncr, Meta: 'a', Delta: 9, MetaFlags: []byte("D09 q")}, "k", "ma k D9\r\n"},
		{"mn", mc.Request{Op: mc.OpNoop, Meta: 'n'}, "", "mn\r\n"},
		{"E x S passed", mc.Request{Op: mc.OpDelete, Meta: 'd', MetaFlags: []byte("x E5 S1")}, "k", "md k x E5 S1\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendRequest([]byte("prev"), &tt.req, []byte(tt.key))
			if string(got) != "prev"+tt.want {
				t.Errorf("got %q, want %q", got[4:], tt.want)
			}
		})
	}
}

// comparable is the part of a request that survives the trip to a backend.
type comparable struct {
	Op         mc.Op
	Meta       byte
	Key, Value string
	Flags      uint32
	Exptime    int64
	CAS, Delta uint64
}

func toComparable(r *mc.Request) comparable {
	return comparable{r.Op, r.Meta, string(r.Key), string(r.Value), r.Flags, r.Exptime, r.CAS, r.Delta}
}

// roundTrip checks that every request of cmd survives AppendRequest and
// ReadCommand, and that serialization is idempotent. It returns a problem
// description, or "".
func roundTrip(cmd *Command) string {
	n := len(cmd.Keys)
	if n == 0 {
		n = 1
	}
	for i := range n {
		var req mc.Request
		cmd.Request(i, &req)
		if !Forwardable(req.Op) {
			continue
		}
		if req.Meta == 0 && req.Op.IsGetLike() && len(req.Key) == 0 {
			continue // "gat <exptime>" without keys
		}
		wire := AppendRequest(nil, &req, req.Key)
		r := NewReaderSize(bytes.NewReader(wire), 256)
		var back Command
		if err := r.ReadCommand(&back); err != nil {
			return "re-reading " + string(wire) + ": " + err.Error()
		}
		var req2 mc.Request
		back.Request(0, &req2)
		if back.NoReply {
			return "backend request asks for no reply: " + string(wire)
		}
		if d := cmp.Diff(toComparable(&req), toComparable(&req2)); d != "" {
			return "request changed through " + string(wire) + ": " + d
		}
		if wire2 := AppendRequest(nil, &req2, req2.Key); !bytes.Equal(wire, wire2) {
			return "serialization not idempotent: " + string(wire) + " then " + string(wire2)
		}
	}
	return ""
}

func TestRoundTrip(t *testing.T) {
	inputs := []string{
		"get a b c\r\n", "gets a\r\n", "gat 10 a b\r\n", "gats -1 a\r\n",
		"set k 4294967297 -5 3 noreply\r\nabc\r\n", "add k 0 0 0\r\n\r\n",
		"replace k 1 2 1\r\nx\r\n", "append k 0 0 1\r\nx\r\n", "prepend k 0 0 1\r\nx\r\n",
		"cas k 1 2 3 99 noreply\r\nabc\r\n", "delete k 0 noreply\r\n", "incr k 18446744073709551615\r\n",
		"decr k 0 noreply\r\n", "touch k -1\r\n", "flush_all 99 noreply\r\n", "version\r\n",
		"get a\rb c\r\r\n",
		"mg k v q k O123 T+5 N30 R10 s f t c h l u P L\r\n",
		"mg YWJj b v k\r\n", "mg AA== b\r\n",
		"ms k 3 T9 F4294967297 C12 q I k O1 MS\r\nabc\r\n", "ms k 1 ME\r\nx\r\n", "ms k 1 MA C1\r\nx\r\n",
		"ms AA== 1 b MR\r\nx\r\n",
		"md k q C5 I T30 x k O1\r\n", "ma k\r\n", "ma k MD D5 N0 J9 q v t c\r\n", "ma k M+ D0\r\n", "mn\r\n",
	}
	for _, in := range inputs {
		r := NewReader(bytes.NewReader([]byte(in)))
		var cmd Command
		if err := r.ReadCommand(&cmd); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if msg := roundTrip(&cmd); msg != "" {
			t.Errorf("%q: %s", in, msg)
		}
	}
}
