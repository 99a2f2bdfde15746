package memproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func binPacket(op BinaryOpcode, opaque uint32, cas uint64, extras, key, value string) []byte {
	return binPacketLen(op, opaque, cas, extras, key, value, uint32(len(extras)+len(key)+len(value)))
}

func binPacketLen(op BinaryOpcode, opaque uint32, cas uint64, extras, key, value string, bodyLen uint32) []byte {
	h := make([]byte, BinaryHeaderLen)
	h[0] = BinaryRequestMagic
	h[1] = byte(op)
	binary.BigEndian.PutUint16(h[2:], uint16(len(key)))
	h[4] = byte(len(extras))
	binary.BigEndian.PutUint32(h[8:], bodyLen)
	binary.BigEndian.PutUint32(h[12:], opaque)
	binary.BigEndian.PutUint64(h[16:], cas)
	return append(append(append(h, extras...), key...), value...)
}

// describeBinary reads every request of in and describes each, and the
// error that ended the input.
func describeBinary(r *Reader) string {
	var sb strings.Builder
	var req BinaryRequest
	for {
		err := r.ReadBinary(&req)
		if err == ErrWouldBlock {
			continue
		}
		if err != nil {
			var be *BinaryError
			if errors.As(err, &be) {
				fmt.Fprintf(&sb, "binary error status=0x%02x: %s\n", be.Status, be.Reason)
			} else {
				fmt.Fprintf(&sb, "%v\n", err)
			}
			return sb.String()
		}
		fmt.Fprintf(&sb, "op=0x%02x opaque=%d cas=%d extras=%x key=%q", req.Opcode, req.Opaque, req.CAS, req.Extras, req.Key)
		if req.TooLarge {
			fmt.Fprintf(&sb, " too large (body %d)\n", req.BodyLen)
		} else if len(req.Value) > 32 {
			fmt.Fprintf(&sb, " valuelen=%d\n", len(req.Value))
		} else {
			fmt.Fprintf(&sb, " value=%q\n", req.Value)
		}
	}
}

var binaryInputs = []struct {
	name string
	in   []byte
	want string
}{
	{"get", binPacket(BinGet, 7, 0, "", "foo", ""),
		"op=0x00 opaque=7 cas=0 extras= key=\"foo\" value=\"\"\n" + "EOF\n"},
	{"set and pipelined getkq", append(binPacket(BinSet, 1, 42, "\x00\x00\x00\x13\x00\x00\x00\x05", "k", "hello"), binPacket(BinGetKQ, 2, 0, "", "k", "")...),
		"op=0x01 opaque=1 cas=42 extras=0000001300000005 key=\"k\" value=\"hello\"\n" +
			"op=0x0d opaque=2 cas=0 extras= key=\"k\" value=\"\"\n" + "EOF\n"},
	{"noop", binPacket(BinNoop, 0, 0, "", "", ""), "op=0x0a opaque=0 cas=0 extras= key=\"\" value=\"\"\n" + "EOF\n"},
	{"bad magic", append([]byte{0x81}, binPacket(BinNoop, 0, 0, "", "", "")[1:]...), "binary error status=0x00: bad magic byte\n"},
	{"text after binary", append(binPacket(BinNoop, 0, 0, "", "", ""), "get foo\r\n"+strings.Repeat(" ", 20)...),
		"op=0x0a opaque=0 cas=0 extras= key=\"\" value=\"\"\n" + "binary error status=0x00: bad magic byte\n"},
	{"key and extras over the body", binPacketLen(BinGet, 0, 0, "", "abc", "", 2), "binary error status=0x81: key and extras longer than the body\n"},
	{"key over 250 bytes", binPacket(BinGet, 0, 0, "", strings.Repeat("k", 251), ""), "binary error status=0x04: key longer than 250 bytes\n"},
	{"key of 250 bytes", binPacket(BinGet, 0, 0, "", strings.Repeat("k", 250), ""),
		"op=0x00 opaque=0 cas=0 extras= key=\"" + strings.Repeat("k", 250) + "\" value=\"\"\n" + "EOF\n"},
	{"truncated header", binPacket(BinGet, 0, 0, "", "k", "")[:10], "unexpected EOF\n"},
	{"truncated body", binPacket(BinSet, 0, 0, "\x00\x00\x00\x00\x00\x00\x00\x00", "k", "hello")[:30], "unexpected EOF\n"},
	{"value over the item limit is skipped", append(binPacket(BinSet, 3, 0, "\x00\x00\x00\x00\x00\x00\x00\x00", "big", strings.Repeat("v", 2<<20)), binPacket(BinNoop, 4, 0, "", "", "")...),
		"op=0x01 opaque=3 cas=0 extras=0000000000000000 key=\"big\" too large (body 2097163)\n" +
			"op=0x0a opaque=4 cas=0 extras= key=\"\" value=\"\"\n" + "EOF\n"},
	{"a 4 GiB body announced", binPacketLen(BinSet, 0, 0, "\x00\x00\x00\x00\x00\x00\x00\x00", "k", "", 0xffffffff),
		"op=0x01 opaque=0 cas=0 extras=0000000000000000 key=\"k\" too large (body 4294967295)\n" + "unexpected EOF\n"},
	{"largest value that fits", binPacket(BinSet, 0, 0, "\x00\x00\x00\x00\x00\x00\x00\x00", "k", strings.Repeat("v", DefaultMaxItemSize-ItemOverhead-1)),
		"op=0x01 opaque=0 cas=0 extras=0000000000000000 key=\"k\" valuelen=1048516\n" + "EOF\n"},
	{"one byte more", binPacket(BinSet, 0, 0, "\x00\x00\x00\x00\x00\x00\x00\x00", "k", strings.Repeat("v", DefaultMaxItemSize-ItemOverhead)),
		"op=0x01 opaque=0 cas=0 extras=0000000000000000 key=\"k\" too large (body 1048526)\n" + "EOF\n"},
}

// TestReadBinary reads binary requests whole and, through a reader that
// hands out a few bytes at a time with ErrWouldBlock in between, resuming;
// both must give the same requests and errors.
func TestReadBinary(t *testing.T) {
	for _, c := range binaryInputs {
		t.Run(c.name, func(t *testing.T) {
			got := describeBinary(NewReader(bytes.NewReader(c.in)))
			if got != c.want {
				t.Errorf("whole:\n%s\nwant:\n%s", got, c.want)
			}
			st := describeBinary(NewReader(ioEOF{&stutterReader{data: c.in, step: 3, block: true}}))
			if st != c.want {
				t.Errorf("resuming:\n%s\nwant:\n%s", st, c.want)
			}
		})
	}
}

func TestBinaryDetection(t *testing.T) {
	for in, want := range map[string]bool{"\x80\x0a": true, "get x\r\n": false, "\x81": false} {
		r := NewReader(strings.NewReader(in))
		bin, err := r.Binary()
		if err != nil || bin != want {
			t.Errorf("Binary(%q) = %v, %v; want %v", in, bin, err, want)
		}
		if r.Buffered() != len(in) {
			t.Errorf("Binary(%q) consumed input", in)
		}
	}
	r := NewReader(strings.NewReader(""))
	if _, err := r.Binary(); err != io.EOF {
		t.Errorf("Binary on empty input: %v", err)
	}
}

func TestBinaryBuffered(t *testing.T) {
	p := binPacket(BinGetKQ, 0, 0, "", "key", "")
	for n := 0; n <= len(p); n++ {
		r := NewReader(bytes.NewReader(p[:n]))
		r.b.fill(n)
		if got, want := r.BinaryBuffered(), n == len(p); got != want {
			t.Errorf("%d of %d bytes: BinaryBuffered = %v", n, len(p), got)
		}
	}
}

func TestAppendBinary(t *testing.T) {
	got := AppendBinary(nil, &BinaryResponse{Opcode: BinGetK, Status: BinStatusOK, Opaque: 0x01020304, CAS: 5,
		Extras: []byte{0, 0, 0, 9}, Key: []byte("k"), Value: []byte("val")})
	want := []byte("\x81\x0c\x00\x01\x04\x00\x00\x00\x00\x00\x00\x08\x01\x02\x03\x04\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x09kval")
	if !bytes.Equal(got, want) {
		t.Errorf("AppendBinary = %q, want %q", got, want)
	}
	got = AppendBinaryError(nil, BinGet, BinStatusKeyNotFound, 1, "")
	if !bytes.HasSuffix(got, []byte("Not found")) || got[7] != 1 || binary.BigEndian.Uint32(got[8:]) != 9 {
		t.Errorf("AppendBinaryError = %q", got)
	}
	for op := range 256 {
		l, quiet := BinaryOpcode(op).Loud()
		if quiet && (l == BinaryOpcode(op) || l > BinGATK) {
			t.Errorf("opcode 0x%02x: loud form 0x%02x", op, l)
		}
	}
}

// FuzzReadBinary reads arbitrary input as binary requests, whole and
// resuming after ErrWouldBlock: no panic, the same results both ways, and
// every request within the protocol's limits.
func FuzzReadBinary(f *testing.F) {
	for _, c := range binaryInputs {
		if len(c.in) < 8<<10 {
			f.Add(c.in)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in))
		r.MaxItemSize = 4 << 10
		var req BinaryRequest
		for range 1000 {
			err := r.ReadBinary(&req)
			if err != nil {
				break
			}
			if len(req.Key) > MaxKeyLength || len(req.Value) > r.MaxItemSize {
				t.Fatalf("request beyond the limits: key %d, value %d bytes", len(req.Key), len(req.Value))
			}
			if !req.TooLarge && uint32(len(req.Extras)+len(req.Key)+len(req.Value)) != req.BodyLen {
				t.Fatalf("body of %d bytes read for %d announced", len(req.Extras)+len(req.Key)+len(req.Value), req.BodyLen)
			}
		}
		whole := describeBinary(newLimited(in))
		resumed := describeBinary(newLimitedStutter(in))
		if whole != resumed {
			t.Fatalf("whole:\n%s\nresuming:\n%s", whole, resumed)
		}
	})
}

func newLimited(in []byte) *Reader {
	r := NewReader(bytes.NewReader(in))
	r.MaxItemSize = 4 << 10
	return r
}

func newLimitedStutter(in []byte) *Reader {
	r := NewReader(ioEOF{&stutterReader{data: in, step: 5, block: true}})
	r.MaxItemSize = 4 << 10
	return r
}

// ioEOF makes a stutterReader end with io.EOF, as a socket does.
type ioEOF struct{ s *stutterReader }

func (r ioEOF) Read(p []byte) (int, error) {
	n, err := r.s.Read(p)
	if err == errEOF {
		err = io.EOF
	}
	return n, err
}
