package memproto

import (
	"strings"
	"testing"

	"github.com/mcroute/mcroute/runtime/mc"
)

func TestAppendReply(t *testing.T) {
	get := mc.Request{Op: mc.OpGet, Key: []byte("k")}
	gets := mc.Request{Op: mc.OpGets, Key: []byte("k")}
	meta := func(m byte, op mc.Op, flags string, quiet bool) mc.Request {
		return mc.Request{Op: op, Meta: m, Key: []byte("key"), MetaFlags: []byte(flags), NoReply: quiet}
	}
	found := mc.Reply{Result: mc.ResFound, Value: []byte("hello"), Flags: 5, CAS: 77}
	tests := []struct {
		name string
		req  mc.Request
		rep  mc.Reply
		want string
	}{
		{"get hit", get, found, "VALUE k 5 5\r\nhello\r\n"},
		{"gets hit", gets, found, "VALUE k 5 5 77\r\nhello\r\n"},
		{"gat hit", mc.Request{Op: mc.OpGat, Key: []byte("k")}, found, "VALUE k 5 5\r\nhello\r\n"},
		{"gats hit", mc.Request{Op: mc.OpGats, Key: []byte("k")}, found, "VALUE k 5 5 77\r\nhello\r\n"},
		{"get miss", get, mc.Reply{Result: mc.ResNotFound}, ""},
		{"get error", get, mc.Reply{Result: mc.ResTko}, "SERVER_ERROR unavailable\r\n"},
		{"get error message", get, mc.Reply{Result: mc.ResRemoteError, Message: "out of memory\r\nx"}, "SERVER_ERROR out of memory  x\r\n"},
		{"busy", get, mc.Reply{Result: mc.ResBusy}, "SERVER_ERROR 307 busy\r\n"},
		{"client error", get, mc.Reply{Result: mc.ResClientError, Message: "bad data chunk"}, "CLIENT_ERROR bad data chunk\r\n"},
		{"client error bare", get, mc.Reply{Result: mc.ResClientError}, "CLIENT_ERROR\r\n"},
		{"incr client error", mc.Request{Op: mc.OpIncr}, mc.Reply{Result: mc.ResClientError, Message: "cannot increment or decrement non-numeric value"},
			"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"},
		{"bad key", get, mc.Reply{Result: mc.ResBadKey}, "CLIENT_ERROR bad key\r\n"},
		{"ERROR", get, mc.Reply{Result: mc.ResBadCommand}, "ERROR\r\n"},
		{"stored", mc.Request{Op: mc.OpSet}, mc.Reply{Result: mc.ResStored}, "STORED\r\n"},
		{"stored noreply", mc.Request{Op: mc.OpSet, NoReply: true}, mc.Reply{Result: mc.ResStored}, ""},
		{"error noreply", mc.Request{Op: mc.OpSet, NoReply: true}, mc.Reply{Result: mc.ResTimeout}, ""},
		{"not stored", mc.Request{Op: mc.OpAdd}, mc.Reply{Result: mc.ResNotStored}, "NOT_STORED\r\n"},
		{"exists", mc.Request{Op: mc.OpCas}, mc.Reply{Result: mc.ResExists}, "EXISTS\r\n"},
		{"cas not found", mc.Request{Op: mc.OpCas}, mc.Reply{Result: mc.ResNotFound}, "NOT_FOUND\r\n"},
		{"deleted", mc.Request{Op: mc.OpDelete}, mc.Reply{Result: mc.ResDeleted}, "DELETED\r\n"},
		{"delete miss", mc.Request{Op: mc.OpDelete}, mc.Reply{Result: mc.ResNotFound}, "NOT_FOUND\r\n"},
		{"touched", mc.Request{Op: mc.OpTouch}, mc.Reply{Result: mc.ResTouched}, "TOUCHED\r\n"},
		{"incr", mc.Request{Op: mc.OpIncr}, mc.Reply{Result: mc.ResStored, Value: []byte("42")}, "42\r\n"},
		{"decr miss", mc.Request{Op: mc.OpDecr}, mc.Reply{Result: mc.ResNotFound}, "NOT_FOUND\r\n"},
		{"flush_all", mc.Request{Op: mc.OpFlushAll}, mc.Reply{Result: mc.ResOK}, "OK\r\n"},
		{"version", mc.Request{Op: mc.OpVersion}, mc.Reply{Result: mc.ResOK, Value: []byte("1.0 mcroute")}, "VERSION 1.0 mcroute\r\n"},
		{"verbosity", mc.Request{Op: mc.OpVerbosity}, mc.Reply{Result: mc.ResOK}, "OK\r\n"},
		{"stats", mc.Request{Op: mc.OpStats}, mc.Reply{Result: mc.ResOK, Value: AppendStat(nil, "pid", "1")}, "STAT pid 1\r\nEND\r\n"},
		{"quit", mc.Request{Op: mc.OpQuit}, mc.Reply{}, ""},
		{"odd result", mc.Request{Op: mc.OpSet}, mc.Reply{Result: mc.ResWaiting}, "SERVER_ERROR unexpected result waiting\r\n"},

		{"mg miss", meta('g', mc.OpGet, "", false), mc.Reply{Result: mc.ResNotFound}, "EN\r\n"},
		{"mg miss q", meta('g', mc.OpGet, "q", true), mc.Reply{Result: mc.ResNotFound}, ""},
		{"mg miss k O", meta('g', mc.OpGet, "k O1 v s", false), mc.Reply{Result: mc.ResNotFound}, "EN kkey O1\r\n"},
		{"mg hit HD", meta('g', mc.OpGet, "", false), found, "HD\r\n"},
		{"mg hit q", meta('g', mc.OpGet, "q", true), found, "HD\r\n"},
		{"mg hit v synthesized", meta('g', mc.OpGet, "v f s c O9 k", false), found, "VA 5 f5 s5 c77 O9 kkey\r\nhello\r\n"},
		{"mg hit backend flags", meta('g', mc.OpGet, "s v t O9 k", false),
			mc.Reply{Result: mc.ResFound, Value: []byte("hi"), MetaFlags: []byte("s2 t-1 O9 kstripped W Z")}, "VA 2 s2 t-1 O9 kkey W Z\r\nhi\r\n"},
		{"mg b key", meta('g', mc.OpGet, "b k", false), mc.Reply{Result: mc.ResNotFound}, "EN ka2V5 b\r\n"},
		{"mg backend b echo", meta('g', mc.OpGet, "k", false), mc.Reply{Result: mc.ResFound, MetaFlags: []byte("ka2V5 b")}, "HD ka2V5 b\r\n"},
		{"mg error with q", meta('g', mc.OpGet, "q", true), mc.Reply{Result: mc.ResTimeout}, "SERVER_ERROR timeout\r\n"},
		{"ms stored", meta('s', mc.OpSet, "k O2 c", false), mc.Reply{Result: mc.ResStored, CAS: 9}, "HD kkey O2 c9\r\n"},
		{"ms stored q", meta('s', mc.OpSet, "q", true), mc.Reply{Result: mc.ResStored}, ""},
		{"ms not stored q", meta('s', mc.OpAdd, "q c", true), mc.Reply{Result: mc.ResNotStored, MetaFlags: []byte("c0")}, "NS c0\r\n"},
		{"ms exists", meta('s', mc.OpCas, "", false), mc.Reply{Result: mc.ResExists}, "EX\r\n"},
		{"ms not found", meta('s', mc.OpCas, "", false), mc.Reply{Result: mc.ResNotFound}, "NF\r\n"},
		{"ms too large", meta('s', mc.OpSet, "q", true), mc.Reply{Result: mc.ResRemoteError, Message: "object too large for cache"}, "SERVER_ERROR object too large for cache\r\n"},
		{"md deleted", meta('d', mc.OpDelete, "O1", false), mc.Reply{Result: mc.ResDeleted}, "HD O1\r\n"},
		{"md deleted q", meta('d', mc.OpDelete, "q", true), mc.Reply{Result: mc.ResDeleted}, ""},
		{"md miss q", meta('d', mc.OpDelete, "q k", true), mc.Reply{Result: mc.ResNotFound}, "NF kkey\r\n"},
		{"md exists", meta('d', mc.OpDelete, "C1", false), mc.Reply{Result: mc.ResExists}, "EX\r\n"},
		{"ma hd", meta('a', mc.OpIncr, "", false), mc.Reply{Result: mc.ResStored, Value: []byte("10")}, "HD\r\n"},
		{"ma va", meta('a', mc.OpIncr, "v t c O1 k", false), mc.Reply{Result: mc.ResStored, Value: []byte("10"), MetaFlags: []byte("t-1 c29")}, "VA 2 t-1 c29 O1 kkey\r\n10\r\n"},
		{"ma q", meta('a', mc.OpIncr, "q v", true), mc.Reply{Result: mc.ResStored, Value: []byte("10")}, ""},
		{"ma miss q", meta('a', mc.OpDecr, "q", true), mc.Reply{Result: mc.ResNotFound}, "NF\r\n"},
		{"ma ns", meta('a', mc.OpIncr, "N0", false), mc.Reply{Result: mc.ResNotStored}, "NS\r\n"},
		{"ma non numeric", meta('a', mc.OpIncr, "", false), mc.Reply{Result: mc.ResClientError, Message: "cannot increment or decrement non-numeric value"}, "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"},
		{"mn", mc.Request{Op: mc.OpNoop, Meta: 'n'}, mc.Reply{Result: mc.ResOK}, "MN\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendReply([]byte("prev"), &tt.req, &tt.rep)
			if string(got) != "prev"+tt.want {
				t.Errorf("got %q, want %q", got[4:], tt.want)
			}
		})
	}
}

func TestAppendHelpers(t *testing.T) {
	if got := string(AppendEnd(nil)); got != "END\r\n" {
		t.Errorf("AppendEnd = %q", got)
	}
	if got := string(AppendValue(nil, []byte("k"), 1, []byte("v"), 2, true)); got != "VALUE k 1 1 2\r\nv\r\n" {
		t.Errorf("AppendValue = %q", got)
	}
	pe := &ProtocolError{Reply: "ERROR"}
	if got := string(pe.AppendTo(nil)); got != "ERROR\r\n" {
		t.Errorf("AppendTo = %q", got)
	}
	if got := (&ProtocolError{}).AppendTo(nil); len(got) != 0 {
		t.Errorf("empty AppendTo = %q", got)
	}
}

// TestRelayErrorLine checks that a backend's error line, read by the
// ReplyReader and written by AppendReply, reaches the client unchanged.
func TestRelayErrorLine(t *testing.T) {
	tests := []struct {
		op   mc.Op
		line string
	}{
		{mc.OpIncr, "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"},
		{mc.OpDecr, "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"},
		{mc.OpIncr, "CLIENT_ERROR invalid numeric delta argument\r\n"},
		{mc.OpGet, "CLIENT_ERROR\r\n"},
		{mc.OpTouch, "CLIENT_ERROR\r\n"},
		{mc.OpGet, "CLIENT_ERROR bad command line format\r\n"},
		{mc.OpGet, "SERVER_ERROR out of memory\r\n"},
		{mc.OpGets, "SERVER_ERROR 307 busy\r\n"},
		{mc.OpDelete, "SERVER_ERROR 302 try again\r\n"},
		{mc.OpGet, "ERROR\r\n"},
	}
	for _, tc := range tests {
		var rep mc.Reply
		if err := NewReplyReader(strings.NewReader(tc.line)).ReadReply(tc.op, 0, &rep); err != nil {
			t.Errorf("%s %q: ReadReply: %v", tc.op, tc.line, err)
			continue
		}
		if got := string(AppendReply(nil, &mc.Request{Op: tc.op, Key: []byte("k")}, &rep)); got != tc.line {
			t.Errorf("%s: relayed %q as %q", tc.op, tc.line, got)
		}
	}
}
