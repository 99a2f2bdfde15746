package memproto

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/rogpeppe/go-internal/txtar"
)

// TestReaderChunking checks that the outcome does not depend on how the
// input is split into reads or on the buffer size (except for the line
// length rules, which depend on what one read brings, as in memcached).
func TestReaderChunking(t *testing.T) {
	files, _ := filepath.Glob("testdata/reader/*.txtar")
	for _, file := range files {
		if strings.HasSuffix(file, "limits.txtar") {
			continue
		}
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if !strings.HasSuffix(f.Name, ".in") {
				continue
			}
			in := unescapeLines(t, f.Data)
			want := describeAll(NewReader(bytes.NewReader(in)))
			for _, rd := range []io.Reader{
				iotest.OneByteReader(bytes.NewReader(in)),
				iotest.HalfReader(bytes.NewReader(in)),
				iotest.DataErrReader(bytes.NewReader(in)),
			} {
				got := describeAll(NewReaderSize(rd, 64))
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("%s/%s with %T (-want +got):\n%s", filepath.Base(file), f.Name, rd, d)
				}
			}
		}
	}
}

func TestReaderLimits(t *testing.T) {
	in := "set k 0 0 40\r\n" + strings.Repeat("x", 40) + "\r\n" +
		"set k 0 0 41\r\n" + strings.Repeat("x", 41) + "\r\n" +
		"set k 1 0 37\r\n" + strings.Repeat("x", 37) + "\r\n" +
		"ms kk 40\r\n" + strings.Repeat("x", 40) + "\r\n" +
		"get " + strings.Repeat("k ", 600) + "\r\n" +
		"get " + strings.Repeat("k ", 2000)
	got := runReader([]byte(in), func(r *Reader) {
		r.MaxItemSize = ItemOverhead + 1 + 40 // one-byte key, 40-byte value
		r.MaxLineSize = 2000
	})
	want := "set key=\"k\" value=\"" + strings.Repeat("x", 40) + "\"\n" +
		"reply \"SERVER_ERROR object too large for cache\" then delete \"k\"\n" +
		"reply \"SERVER_ERROR object too large for cache\" then delete \"k\"\n" +
		"reply \"SERVER_ERROR object too large for cache\" then delete \"kk\" (md \"\")\n" +
		"get key=\"k\" key=\"k\" key=\"k\" key=\"k\" ...(600 keys)\n" +
		"reply \"\" close\n"
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestReaderShrinkAndReset(t *testing.T) {
	big := strings.Repeat("v", 500000)
	in := "set k 0 0 500000\r\n" + big + "\r\nget a\r\nget b\r\n"
	r := NewReader(strings.NewReader(in))
	var cmd Command
	if err := r.ReadCommand(&cmd); err != nil || string(cmd.Value) != big {
		t.Fatalf("big set: %v", err)
	}
	if len(r.b.buf) < 500000 {
		t.Fatalf("buffer did not grow: %d", len(r.b.buf))
	}
	if err := r.ReadCommand(&cmd); err != nil || string(cmd.Keys[0]) != "a" {
		t.Fatalf("get a: %v", err)
	}
	if len(r.b.buf) != DefaultBufferSize {
		t.Errorf("buffer did not shrink: %d", len(r.b.buf))
	}
	if r.Buffered() != len("get b\r\n") {
		t.Errorf("Buffered = %d", r.Buffered())
	}
	r.Reset(strings.NewReader("get c\r\n"))
	if r.Buffered() != 0 {
		t.Errorf("Buffered after Reset = %d", r.Buffered())
	}
	if err := r.ReadCommand(&cmd); err != nil || string(cmd.Keys[0]) != "c" {
		t.Fatalf("get c after Reset: %v", err)
	}
	if err := r.ReadCommand(&cmd); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

// errReader fails after its data.
type errReader struct {
	data []byte
	err  error
}

func (e *errReader) Read(p []byte) (int, error) {
	if len(e.data) == 0 {
		return 0, e.err
	}
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, nil
}

func TestReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(&errReader{data: []byte("get a\r\nget b"), err: boom})
	var cmd Command
	if err := r.ReadCommand(&cmd); err != nil {
		t.Fatal(err)
	}
	if err := r.ReadCommand(&cmd); err != boom {
		t.Fatalf("got %v, want boom", err)
	}
	var pe *ProtocolError
	err := NewReader(strings.NewReader("bogus\r\n")).ReadCommand(&cmd)
	if !errors.As(err, &pe) || pe.Reply != "ERROR" || pe.Close || !strings.Contains(pe.Error(), "ERROR") {
		t.Fatalf("bogus: %v", err)
	}
	err = NewReader(strings.NewReader("set k 0 0 x noreply\r\n")).ReadCommand(&cmd)
	if !errors.As(err, &pe) || pe.Reply != "" || !strings.Contains(pe.Error(), "suppressed") {
		t.Fatalf("noreply error: %v", err)
	}
}

func TestRequestFromCommand(t *testing.T) {
	r := NewReader(strings.NewReader("gats 30 a b\r\nmg Zm9v b v q\r\nversion\r\n"))
	var cmd Command
	var req mc.Request
	if err := r.ReadCommand(&cmd); err != nil {
		t.Fatal(err)
	}
	cmd.Request(1, &req)
	if req.Op != mc.OpGats || string(req.Key) != "b" || req.Exptime != 30 {
		t.Errorf("gats: %+v", req)
	}
	if err := r.ReadCommand(&cmd); err != nil {
		t.Fatal(err)
	}
	cmd.Request(0, &req)
	if req.Op != mc.OpGet || req.Meta != 'g' || string(req.Key) != "foo" || !req.NoReply || string(req.MetaFlags) != "b v q" {
		t.Errorf("mg: %+v", req)
	}
	if err := r.ReadCommand(&cmd); err != nil {
		t.Fatal(err)
	}
	cmd.Request(0, &req)
	if req.Op != mc.OpVersion || req.Key != nil {
		t.Errorf("version: %+v", req)
	}
}

func TestCNumbers(t *testing.T) {
	for _, tt := range []struct {
		in    string
		l     int32
		lok   bool
		ul    uint32
		ulok  bool
		ull   uint64
		ullok bool
	}{
		{"0", 0, true, 0, true, 0, true},
		{"-0", 0, true, 0, true, 0, true},
		{"+7", 7, true, 7, true, 7, true},
		{"\t7", 7, true, 7, true, 7, true},
		{"7\t", 7, true, 7, true, 7, true},
		{"7\rjunk", 7, true, 7, true, 7, true},
		{"7x", 0, false, 0, false, 0, false},
		{"", 0, false, 0, false, 0, false},
		{"-", 0, false, 0, false, 0, false},
		{"0x1", 0, false, 0, false, 0, false},
		{"-1", -1, true, 0, false, 0, false},
		{"4294967297", 1, true, 1, true, 4294967297, true},
		{"-4294967295", 1, true, 0, false, 0, false},
		{"9223372036854775807", -1, true, 4294967295, true, 9223372036854775807, true},
		{"9223372036854775808", 0, false, 0, true, 9223372036854775808, true},
		{"-9223372036854775808", 0, true, 0, false, 0, false},
		{"-9223372036854775809", 0, false, 4294967295, true, 9223372036854775807, true},
		{"18446744073709551615", 0, false, 4294967295, true, 18446744073709551615, true},
		{"18446744073709551616", 0, false, 0, false, 0, false},
	} {
		l, lok := cstrtol([]byte(tt.in))
		ul, ulok := cstrtoul([]byte(tt.in))
		ull, ullok := cstrtoull([]byte(tt.in))
		if l != tt.l || lok != tt.lok || ul != tt.ul || ulok != tt.ulok || ull != tt.ull || ullok != tt.ullok {
			t.Errorf("%q: strtol %d %v, strtoul %d %v, strtoull %d %v", tt.in, l, lok, ul, ulok, ull, ullok)
		}
	}
}

func TestBase64(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"YTE=", "a1", true},
		{"YQ==", "a", true},
		{"YWJj", "abc", true},
		{"YQ==YQ==", "a", true},
		{"Y!W!J!j", "abc", true},
		{"YTE", "", false},
		{"YQ", "", false},
		{"YQ=", "", false},
		{"YTE===", "", false},
		{"====", "", false},
		{"A===", "", false},
		{"", "", false},
		{"!!!!", "", false},
	} {
		got, ok := b64decode(nil, []byte(tt.in))
		if string(got) != tt.want || ok != tt.ok {
			t.Errorf("b64decode(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok {
			if enc := b64encode(nil, got); string(enc) == "" {
				t.Errorf("b64encode(%q) empty", got)
			}
		}
	}
	for _, s := range []string{"", "a", "ab", "abc", "abcd", "\x00\xff\x10"} {
		enc := b64encode(nil, []byte(s))
		dec, ok := b64decode(nil, enc)
		if (s != "" && !ok) || string(dec) != s {
			t.Errorf("round trip %q: %q %q %v", s, enc, dec, ok)
		}
	}
}

// TestReaderLongLineSmallBuffer: memcached judges a line by what one read
// into its 16 KiB buffer brought. A Reader with a small buffer (a proxy's
// client connection) reads on while its reads come back full, so that a
// 10 KB line sent at once is answered as memcached answers it, and a line
// without a newline is still cut off.
func TestReaderLongLineSmallBuffer(t *testing.T) {
	key := strings.Repeat("a", 10000)
	cases := []struct{ in, want string }{
		{"set " + key + " 0 0 5\r\nhello\r\nmn\r\n",
			"reply \"CLIENT_ERROR bad command line format\"\nmn:noop\nEOF\n"},
		{"get " + key + "\r\nmn\r\n",
			"reply \"CLIENT_ERROR bad command line format\"\nmn:noop\nEOF\n"},
		{strings.Repeat("x", 10000) + "\r\nmn\r\n",
			"reply \"ERROR\"\nmn:noop\nEOF\n"},
		// All that arrived, and no newline: closed at once.
		{strings.Repeat("x", 3000), "reply \"\" close\n"},
		// More than memcached's buffer holds, and no newline.
		{strings.Repeat("x", 20000) + "\r\n", "reply \"\" close\n"},
	}
	for _, tc := range cases {
		got := describeAll(NewReaderSize(strings.NewReader(tc.in), 2048))
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%.40q (-want +got):\n%s", tc.in, d)
		}
	}
}
