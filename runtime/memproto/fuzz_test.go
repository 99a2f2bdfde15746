package memproto

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/rogpeppe/go-internal/txtar"
)

// fuzzSeeds returns the golden inputs plus a few extra corner cases.
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	files, _ := filepath.Glob("testdata/reader/*.txtar")
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, sec := range ar.Files {
			if strings.HasSuffix(sec.Name, ".in") {
				in := unescapeLines(f, sec.Data)
				if len(in) > 8<<10 {
					continue // keep the fuzz corpus small and fast
				}
				seeds = append(seeds, in)
			}
		}
	}
	for _, c := range commandInputs {
		seeds = append(seeds, []byte(c.in))
	}
	seeds = append(seeds,
		[]byte("set k 0 0 5000\r\n"+strings.Repeat("x", 5000)+"\r\nget k\r\n"),
		[]byte("get "+strings.Repeat("k ", 1100)+"\r\n"),
		[]byte(strings.Repeat("x", 2049)),
		[]byte("ms k 2000 q\r\n"+strings.Repeat("x", 2000)+"\r\nmn\r\n"),
		[]byte("\x80\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00hello"),
	)
	return seeds
}

// checkCommand verifies the invariants of a parsed command.
func checkCommand(t *testing.T, cmd *Command, r *Reader) {
	for _, k := range cmd.Keys {
		if len(k) > MaxKeyLength {
			t.Fatalf("key of %d bytes accepted", len(k))
		}
	}
	if cmd.Op.HasValue() && cmd.Value == nil {
		t.Fatalf("%v without a value", cmd.Op)
	}
	if len(cmd.Value) > r.maxItem() {
		t.Fatalf("value of %d bytes over MaxItemSize %d", len(cmd.Value), r.maxItem())
	}
	if len(cmd.Keys) > 4 {
		// Checking a few keys of a large multiget is enough.
		c := *cmd
		c.Keys = append(cmd.Keys[:3:3], cmd.Keys[len(cmd.Keys)-1])
		cmd = &c
	}
	if msg := roundTrip(cmd); msg != "" {
		t.Fatal(msg)
	}
	// Every reply kind can be written for the command.
	var req mc.Request
	for i := range max(1, len(cmd.Keys)) {
		cmd.Request(i, &req)
		for _, res := range []mc.Result{mc.ResFound, mc.ResNotFound, mc.ResStored, mc.ResNotStored,
			mc.ResExists, mc.ResDeleted, mc.ResTouched, mc.ResOK, mc.ResTimeout, mc.ResBadKey} {
			rep := mc.Reply{Result: res, Value: []byte("12"), MetaFlags: []byte("s2 t-1 kx b W")}
			out := AppendReply(nil, &req, &rep)
			if len(out) > 0 && !bytes.HasSuffix(out, []byte("\r\n")) {
				t.Fatalf("reply %q does not end in CRLF", out)
			}
		}
	}
}

func FuzzReadCommand(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(runFuzzOne)
}

func runFuzzOne(t *testing.T, data []byte) {
	if len(data) > 64<<10 {
		return
	}
	for _, oneByte := range []bool{false, true} {
		var rd io.Reader = bytes.NewReader(data)
		size := DefaultBufferSize
		if oneByte {
			rd, size = iotest.OneByteReader(rd), 64
		}
		r := NewReaderSize(rd, size)
		r.MaxItemSize = 8 << 10
		r.MaxLineSize = 32 << 10
		limit := max(MaxCommandLine, r.MaxLineSize) + r.MaxItemSize + 2
		var cmd Command
		for range len(data) + 2 {
			err := r.ReadCommand(&cmd)
			if cap(r.b.buf) > max(limit, size) {
				t.Fatalf("buffer grew to %d (limit %d)", cap(r.b.buf), limit)
			}
			if err == nil {
				checkCommand(t, &cmd, r)
				continue
			}
			var pe *ProtocolError
			if errors.As(err, &pe) {
				if pe.Reply != "" && strings.ContainsAny(pe.Reply, "\r\n") {
					t.Fatalf("bad reply %q", pe.Reply)
				}
				if !pe.Close {
					continue
				}
			} else if err != io.EOF && err != io.ErrUnexpectedEOF {
				t.Fatalf("unexpected error %v", err)
			}
			break
		}
	}
}

func FuzzReadReply(f *testing.F) {
	for _, in := range replyInputs {
		f.Add(byte(in.op), in.meta, []byte(in.in))
	}
	for _, s := range []string{
		"VALUE k 1 2 3\r\nab\r\nEND\r\n", "VA 3 f1 c2\r\nabc\r\n", "HD W Z\r\n", "EN\r\n", "NS c0\r\n",
		"SERVER_ERROR 307 busy\r\n", "CLIENT_ERROR x\r\n", "ERROR\r\n", "STAT a b\r\nEND\r\n",
		"VERSION 1.6\r\n", "OK\r\n", "MN\r\n", "TOUCHED\r\n", "DELETED\r\n", "9 \r\n", "VALUE k 0 4294967296\r\n",
	} {
		for _, op := range []mc.Op{mc.OpGet, mc.OpSet, mc.OpDelete, mc.OpIncr, mc.OpTouch, mc.OpStats, mc.OpVersion, mc.OpFlushAll, mc.OpNoop} {
			f.Add(byte(op), byte(0), []byte(s))
		}
		for _, m := range []byte("gsdan") {
			f.Add(byte(mc.OpGet), m, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, op, meta byte, data []byte) {
		for _, oneByte := range []bool{false, true} {
			var rd io.Reader = bytes.NewReader(data)
			if oneByte {
				rd = iotest.OneByteReader(rd)
			}
			rr := NewReplyReaderSize(rd, 64)
			rr.MaxValueSize = 16 << 10
			limit := 2*MaxReplyLineSize + rr.MaxValueSize + 4
			var rep mc.Reply
			for range len(data) + 2 {
				err := rr.ReadReply(mc.Op(op), meta, &rep)
				if cap(rr.b.buf) > limit {
					t.Fatalf("buffer grew to %d", cap(rr.b.buf))
				}
				if err != nil {
					var re *ReplyError
					if !errors.As(err, &re) && err != io.EOF && err != io.ErrUnexpectedEOF {
						t.Fatalf("unexpected error %v", err)
					}
					break
				}
				if rep.Result == mc.ResUnknown {
					t.Fatalf("no result and no error")
				}
				if len(rep.Value) > rr.MaxValueSize {
					t.Fatalf("value of %d bytes", len(rep.Value))
				}
				// A parsed reply can be written back to a client.
				req := mc.Request{Op: mc.Op(op), Meta: meta, Key: []byte("k"), MetaFlags: []byte("v k O1 c f s")}
				AppendReply(nil, &req, &rep)
			}
		}
	})
}
