package memproto

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/mcroute/mcroute/runtime/mc"
)

type replyWant struct {
	Result    mc.Result
	Value     string
	Flags     uint32
	CAS       uint64
	Message   string
	MetaFlags string
}

func toReplyWant(r *mc.Reply) replyWant {
	return replyWant{r.Result, string(r.Value), r.Flags, r.CAS, r.Message, string(r.MetaFlags)}
}

func TestReadReply(t *testing.T) {
	tests := []struct {
		name    string
		op      mc.Op
		meta    byte
		in      string
		want    replyWant
		wantErr bool
	}{
		{"get hit", mc.OpGet, 0, "VALUE k 5 5\r\nhello\r\nEND\r\n", replyWant{Result: mc.ResFound, Value: "hello", Flags: 5}, false},
		{"gets hit", mc.OpGets, 0, "VALUE k 4294967295 0 18446744073709551615\r\n\r\nEND\r\n", replyWant{Result: mc.ResFound, Flags: 4294967295, CAS: 18446744073709551615}, false},
		{"get binary value", mc.OpGet, 0, "VALUE k 0 7\r\nEND\r\n\r\n\r\nEND\r\n", replyWant{Result: mc.ResFound, Value: "END\r\n\r\n"}, false},
		{"get miss", mc.OpGet, 0, "END\r\n", replyWant{Result: mc.ResNotFound}, false},
		{"gat miss bare LF", mc.OpGat, 0, "END\n", replyWant{Result: mc.ResNotFound}, false},
		{"get no END", mc.OpGet, 0, "VALUE k 0 1\r\na\r\nVALUE k 0 1\r\na\r\nEND\r\n", replyWant{}, true},
		{"get bad chunk", mc.OpGet, 0, "VALUE k 0 1\r\nab\r\nEND\r\n", replyWant{}, true},
		{"get bad flags", mc.OpGet, 0, "VALUE k 4294967296 1\r\na\r\nEND\r\n", replyWant{}, true},
		{"get bad len", mc.OpGet, 0, "VALUE k 0 -1\r\na\r\nEND\r\n", replyWant{}, true},
		{"get too many fields", mc.OpGet, 0, "VALUE k 0 1 2 3\r\na\r\nEND\r\n", replyWant{}, true},
		{"get truncated", mc.OpGet, 0, "VALUE k 0 10\r\nabc", replyWant{}, true},
		{"get STORED", mc.OpGet, 0, "STORED\r\n", replyWant{}, true},
		{"stored", mc.OpSet, 0, "STORED\r\n", replyWant{Result: mc.ResStored}, false},
		{"not stored", mc.OpAdd, 0, "NOT_STORED\r\n", replyWant{Result: mc.ResNotStored}, false},
		{"exists", mc.OpCas, 0, "EXISTS\r\n", replyWant{Result: mc.ResExists}, false},
		{"cas not found", mc.OpCas, 0, "NOT_FOUND\r\n", replyWant{Result: mc.ResNotFound}, false},
		{"set DELETED", mc.OpSet, 0, "DELETED\r\n", replyWant{}, true},
		{"deleted", mc.OpDelete, 0, "DELETED\r\n", replyWant{Result: mc.ResDeleted}, false},
		{"delete miss", mc.OpDelete, 0, "NOT_FOUND\r\n", replyWant{Result: mc.ResNotFound}, false},
		{"touched", mc.OpTouch, 0, "TOUCHED\r\n", replyWant{Result: mc.ResTouched}, false},
		{"incr", mc.OpIncr, 0, "42\r\n", replyWant{Result: mc.ResStored, Value: "42"}, false},
		{"decr padded", mc.OpDecr, 0, "9 \r\n", replyWant{Result: mc.ResStored, Value: "9"}, false},
		{"incr miss", mc.OpIncr, 0, "NOT_FOUND\r\n", replyWant{Result: mc.ResNotFound}, false},
		{"incr junk", mc.OpIncr, 0, "4x2\r\n", replyWant{}, true},
		{"flush_all", mc.OpFlushAll, 0, "OK\r\n", replyWant{Result: mc.ResOK}, false},
		{"version", mc.OpVersion, 0, "VERSION 1.6.18\r\n", replyWant{Result: mc.ResOK, Value: "1.6.18"}, false},
		{"stats", mc.OpStats, 0, "STAT pid 1\r\nSTAT uptime 2\r\nEND\r\n", replyWant{Result: mc.ResOK, Value: "STAT pid 1\r\nSTAT uptime 2\r\n"}, false},
		{"server error", mc.OpSet, 0, "SERVER_ERROR object too large for cache\r\n", replyWant{Result: mc.ResRemoteError, Message: "object too large for cache"}, false},
		{"server error busy", mc.OpGet, 0, "SERVER_ERROR 307 busy\r\n", replyWant{Result: mc.ResBusy, Message: "307 busy"}, false},
		{"server error try again", mc.OpGet, 0, "SERVER_ERROR 302 try again\r\n", replyWant{Result: mc.ResTryAgain, Message: "302 try again"}, false},
		{"client error", mc.OpIncr, 0, "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n", replyWant{Result: mc.ResClientError, Message: "cannot increment or decrement non-numeric value"}, false},
		{"bad data chunk", mc.OpSet, 0, "CLIENT_ERROR bad data chunk\r\n", replyWant{Result: mc.ResClientError, Message: "bad data chunk"}, false},
		{"ERROR on get", mc.OpGet, 0, "ERROR\r\n", replyWant{Result: mc.ResBadCommand}, false},
		{"ERROR on set desyncs", mc.OpSet, 0, "ERROR\r\n", replyWant{Result: mc.ResBadCommand}, true},
		{"bad format on set desyncs", mc.OpSet, 0, "CLIENT_ERROR bad command line format\r\n", replyWant{Result: mc.ResClientError, Message: "bad command line format"}, true},
		{"garbage", mc.OpGet, 0, "\x00\x01\x02\r\n", replyWant{}, true},
		{"END for set", mc.OpSet, 0, "", replyWant{}, true},
		{"no reply format", mc.OpLeaseGet, 0, "END\r\n", replyWant{}, true},

		{"mg VA", mc.OpGet, 'g', "VA 5 f7 c9 s5 kk O1\r\nhello\r\n", replyWant{Result: mc.ResFound, Value: "hello", Flags: 7, CAS: 9, MetaFlags: "f7 c9 s5 kk O1"}, false},
		{"mg VA no flags", mc.OpGet, 'g', "VA 0\r\n\r\n", replyWant{Result: mc.ResFound, Value: ""}, false},
		{"mg HD", mc.OpGet, 'g', "HD\r\n", replyWant{Result: mc.ResFound}, false},
		{"mg HD W", mc.OpGet, 'g', "HD W Z\r\n", replyWant{Result: mc.ResFound, MetaFlags: "W Z"}, false},
		{"mg EN", mc.OpGet, 'g', "EN\r\n", replyWant{Result: mc.ResNotFound}, false},
		{"mg EN flags", mc.OpGet, 'g', "EN kk O1\r\n", replyWant{Result: mc.ResNotFound, MetaFlags: "kk O1"}, false},
		{"mg NS", mc.OpGet, 'g', "NS\r\n", replyWant{}, true},
		{"mg VA bad chunk", mc.OpGet, 'g', "VA 2\r\nabc\r\n", replyWant{}, true},
		{"mg VA bad size", mc.OpGet, 'g', "VA x\r\nabc\r\n", replyWant{}, true},
		{"mg code too long", mc.OpGet, 'g', "HDX\r\n", replyWant{}, true},
		{"ms HD", mc.OpSet, 's', "HD c5\r\n", replyWant{Result: mc.ResStored, CAS: 5, MetaFlags: "c5"}, false},
		{"ms OK (old)", mc.OpSet, 's', "OK\r\n", replyWant{Result: mc.ResStored}, false},
		{"ms NS", mc.OpAdd, 's', "NS c0\r\n", replyWant{Result: mc.ResNotStored, MetaFlags: "c0"}, false},
		{"ms EX", mc.OpCas, 's', "EX\r\n", replyWant{Result: mc.ResExists}, false},
		{"ms NF", mc.OpCas, 's', "NF\r\n", replyWant{Result: mc.ResNotFound}, false},
		{"ms invalid flag", mc.OpSet, 's', "CLIENT_ERROR invalid flag\r\n", replyWant{Result: mc.ResClientError, Message: "invalid flag"}, false},
		{"ms ERROR desyncs", mc.OpSet, 's', "ERROR\r\n", replyWant{Result: mc.ResBadCommand}, true},
		{"md HD", mc.OpDelete, 'd', "HD\r\n", replyWant{Result: mc.ResDeleted}, false},
		{"md NF", mc.OpDelete, 'd', "NF\r\n", replyWant{Result: mc.ResNotFound}, false},
		{"md EX", mc.OpDelete, 'd', "EX\r\n", replyWant{Result: mc.ResExists}, false},
		{"ma HD", mc.OpIncr, 'a', "HD\r\n", replyWant{Result: mc.ResStored}, false},
		{"ma VA", mc.OpIncr, 'a', "VA 2 t-1 c29\r\n10\r\n", replyWant{Result: mc.ResStored, Value: "10", CAS: 29, MetaFlags: "t-1 c29"}, false},
		{"ma NF", mc.OpDecr, 'a', "NF\r\n", replyWant{Result: mc.ResNotFound}, false},
		{"ma NS", mc.OpIncr, 'a', "NS\r\n", replyWant{Result: mc.ResNotStored}, false},
		{"mn", mc.OpNoop, 'n', "MN\r\n", replyWant{Result: mc.ResOK}, false},
		{"mn wrong", mc.OpNoop, 'n', "HD\r\n", replyWant{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, oneByte := range []bool{false, true} {
				var rd io.Reader = strings.NewReader(tt.in + "END\r\n")
				if oneByte {
					rd = iotest.OneByteReader(rd)
				}
				rr := NewReplyReaderSize(rd, 64)
				var rep mc.Reply
				err := rr.ReadReply(tt.op, tt.meta, &rep)
				if (err != nil) != tt.wantErr {
					t.Fatalf("oneByte=%v: err = %v, want error %v", oneByte, err, tt.wantErr)
				}
				if err == nil || tt.want.Result != mc.ResUnknown {
					if d := cmp.Diff(tt.want, toReplyWant(&rep)); d != "" {
						t.Errorf("oneByte=%v: reply (-want +got):\n%s", oneByte, d)
					}
				}
				if err == nil {
					// The reader is positioned at the next reply.
					if err := rr.ReadReply(mc.OpGet, 0, &rep); err != nil || rep.Result != mc.ResNotFound {
						t.Errorf("oneByte=%v: next reply: %v %v", oneByte, err, rep.Result)
					}
				} else {
					var re *ReplyError
					if !errors.As(err, &re) && err != io.EOF && err != io.ErrUnexpectedEOF {
						t.Errorf("error %T %v is neither a ReplyError nor EOF", err, err)
					}
				}
			}
		})
	}
}

func TestReadReplyEOF(t *testing.T) {
	var rep mc.Reply
	if err := NewReplyReader(strings.NewReader("")).ReadReply(mc.OpGet, 0, &rep); err != io.EOF {
		t.Errorf("empty stream: %v", err)
	}
	if err := NewReplyReader(strings.NewReader("VALUE k 0 1\r\na\r\nEN")).ReadReply(mc.OpGet, 0, &rep); err != io.ErrUnexpectedEOF {
		t.Errorf("truncated: %v", err)
	}
}

func TestReadReplyLarge(t *testing.T) {
	value := bytes.Repeat([]byte("x"), 3<<20)
	var in []byte
	in = append(in, "VALUE k 1 3145728\r\n"...)
	in = append(in, value...)
	in = append(in, "\r\nEND\r\nVA 2\r\nhi\r\n"...)
	rr := NewReplyReader(bytes.NewReader(in))
	var rep mc.Reply
	if err := rr.ReadReply(mc.OpGet, 0, &rep); err != nil || !bytes.Equal(rep.Value, value) {
		t.Fatalf("large value: %v, %d bytes", err, len(rep.Value))
	}
	if err := rr.ReadReply(mc.OpGet, 'g', &rep); err != nil || string(rep.Value) != "hi" {
		t.Fatalf("after large value: %v %q", err, rep.Value)
	}
	if len(rr.b.buf) > 2*DefaultBufferSize {
		// shrink happens at the start of the next call
		rr.ReadReply(mc.OpGet, 0, &rep)
		if len(rr.b.buf) > 2*DefaultBufferSize {
			t.Errorf("buffer did not shrink: %d", len(rr.b.buf))
		}
	}
	rr = NewReplyReader(bytes.NewReader(in))
	rr.MaxValueSize = 1 << 20
	if err := rr.ReadReply(mc.OpGet, 0, &rep); !errors.As(err, new(*ReplyError)) {
		t.Fatalf("over MaxValueSize: %v", err)
	}
	long := "SERVER_ERROR " + strings.Repeat("x", MaxReplyLineSize+10) + "\r\n"
	rr = NewReplyReader(strings.NewReader(long))
	if err := rr.ReadReply(mc.OpGet, 0, &rep); !errors.As(err, new(*ReplyError)) {
		t.Fatalf("long line: %v", err)
	}
}
