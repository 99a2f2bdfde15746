package proxy_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"

	"github.com/mcroute/mcroute/internal/golden"
	"github.com/mcroute/mcroute/internal/memcachedtest"
	"github.com/mcroute/mcroute/runtime/memproto"
	"github.com/mcroute/mcroute/runtime/proxy"
)

// TestBinaryConformance runs the binary protocol scripts of
// testdata/binary/*.txtar twice: straight at a fresh memcached and through
// the proxy in front of another fresh one, and checks that both exchanges
// equal the archive's want section (written from direct memcached with
// MCROUTE_UPDATE=1). So the proxy answers every binary request byte for
// byte as memcached does, CAS values included; only a VERSION's text is
// masked.
//
// Script lines: requests separated by " ; " are sent in one write, followed
// by a Noop whose reply ends the line's replies (a quit closes the
// connection instead). A request is an opcode name (get, getkq, setq,
// incr, ...; "op=0xNN" for any other; "raw HEX" for bytes sent as they are)
// and attributes: key=K (Go-quoted when it holds spaces), flags=, exp=,
// value= (quoted or bare), valuelen=N (N bytes of 'v'), delta=,
// initial=, cas=N or cas=$cas (the last CAS a reply carried), extras=HEX.
// Section proxy-script, if any, runs through the proxy only (want-proxy):
// for input memcached itself mishandles.
func TestBinaryConformance(t *testing.T) {
	memcachedtest.Require(t)
	golden.Run(t, filepath.Join("testdata", "binary"), func(t *testing.T, a *golden.Archive) map[string][]byte {
		script := string(a.MustGet(t, "script"))
		direct := memcachedtest.Start(t)
		behind := memcachedtest.Start(t)
		_, addr := startProxy(t, withServers(`{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`, behind), proxy.Options{EnableFlush: true})
		want := runBinaryScript(t, direct.Addr, script)
		got := runBinaryScript(t, addr, script)
		if got != want {
			t.Errorf("through the proxy (+) and direct (-) differ:\n%s", cmp.Diff(want, got))
		}
		out := map[string][]byte{"want": []byte(want)}
		if ps, ok := a.Get("proxy-script"); ok {
			out["want-proxy"] = []byte(runBinaryScript(t, addr, string(ps)))
		}
		return out
	})
}

// TestBinaryPipelinedGets sends a libmemcached-style multiget (GetKQ for
// every key, then a GetK or Noop) over keys spread across three servers
// and checks that the hits come back in order with their keys and flags.
func TestBinaryPipelinedGets(t *testing.T) {
	m0, m1, m2 := memcachedtest.Start(t), memcachedtest.Start(t), memcachedtest.Start(t)
	_, addr := startProxy(t, withServers(`{"pools":{"A":{"servers":["$0","$1","$2"]}},"route":"PoolRoute|A"}`, m0, m1, m2), proxy.Options{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	var out []byte
	const n = 300
	for i := 0; i < n; i++ {
		if i%3 == 0 {
			continue // misses: quiet gets answer nothing
		}
		out = binRequest(out, memproto.BinSetQ, uint32(i), 0, binSetExtras(uint32(i), 0), []byte(fmt.Sprintf("key:%d", i)), []byte(fmt.Sprintf("value %d", i)))
	}
	for i := 0; i < n; i++ {
		out = binRequest(out, memproto.BinGetKQ, uint32(i), 0, nil, []byte(fmt.Sprintf("key:%d", i)), nil)
	}
	out = binRequest(out, memproto.BinNoop, 99999, 0, nil, nil, nil)
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	var seen int
	for {
		p, err := readBinPacket(c)
		if err != nil {
			t.Fatal(err)
		}
		if memproto.BinaryOpcode(p.opcode) == memproto.BinNoop {
			break
		}
		i := int(p.opaque)
		if p.status != 0 || string(p.key) != fmt.Sprintf("key:%d", i) || string(p.value) != fmt.Sprintf("value %d", i) || binary.BigEndian.Uint32(p.extras) != uint32(i) || p.cas == 0 {
			t.Fatalf("reply %d: %+v", seen, p)
		}
		if i%3 == 0 || i <= seen-1 {
			t.Fatalf("reply for key %d out of order or unexpected (after %d replies)", i, seen)
		}
		seen++
	}
	if want := n - n/3; seen != want {
		t.Fatalf("%d hits, want %d", seen, want)
	}
	// The keys were spread over the three servers.
	for _, m := range []*memcachedtest.Server{m0, m1, m2} {
		held := 0
		for i := 1; i < 30; i++ {
			if _, ok := m.Get(fmt.Sprintf("key:%d", i)); ok {
				held++
			}
		}
		if held == 0 {
			t.Errorf("%s holds none of the first keys", m.Addr)
		}
	}
}

func binSetExtras(flags, exp uint32) []byte {
	e := binary.BigEndian.AppendUint32(nil, flags)
	return binary.BigEndian.AppendUint32(e, exp)
}

func binRequest(dst []byte, op memproto.BinaryOpcode, opaque uint32, cas uint64, extras, key, value []byte) []byte {
	var h [24]byte
	h[0] = memproto.BinaryRequestMagic
	h[1] = byte(op)
	binary.BigEndian.PutUint16(h[2:], uint16(len(key)))
	h[4] = byte(len(extras))
	binary.BigEndian.PutUint32(h[8:], uint32(len(extras)+len(key)+len(value)))
	binary.BigEndian.PutUint32(h[12:], opaque)
	binary.BigEndian.PutUint64(h[16:], cas)
	dst = append(dst, h[:]...)
	dst = append(dst, extras...)
	dst = append(dst, key...)
	return append(dst, value...)
}

type binPacket struct {
	magic, opcode      byte
	status             uint16
	opaque             uint32
	cas                uint64
	extras, key, value []byte
}

func readBinPacket(r io.Reader) (*binPacket, error) {
	var h [24]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	kl, el, bl := int(binary.BigEndian.Uint16(h[2:])), int(h[4]), int(binary.BigEndian.Uint32(h[8:]))
	body := make([]byte, bl)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	if el+kl > bl {
		return nil, fmt.Errorf("bad lengths in %x", h)
	}
	return &binPacket{
		magic: h[0], opcode: h[1], status: binary.BigEndian.Uint16(h[6:]),
		opaque: binary.BigEndian.Uint32(h[12:]), cas: binary.BigEndian.Uint64(h[16:]),
		extras: body[:el], key: body[el : el+kl], value: body[el+kl:],
	}, nil
}

var binOpcodes = map[string]memproto.BinaryOpcode{
	"get": memproto.BinGet, "set": memproto.BinSet, "add": memproto.BinAdd, "replace": memproto.BinReplace,
	"delete": memproto.BinDelete, "incr": memproto.BinIncrement, "decr": memproto.BinDecrement,
	"quit": memproto.BinQuit, "flush": memproto.BinFlush, "getq": memproto.BinGetQ, "noop": memproto.BinNoop,
	"version": memproto.BinVersion, "getk": memproto.BinGetK, "getkq": memproto.BinGetKQ,
	"append": memproto.BinAppend, "prepend": memproto.BinPrepend, "stat": memproto.BinStat,
	"setq": memproto.BinSetQ, "addq": memproto.BinAddQ, "replaceq": memproto.BinReplaceQ,
	"deleteq": memproto.BinDeleteQ, "incrq": memproto.BinIncrQ, "decrq": memproto.BinDecrQ,
	"quitq": memproto.BinQuitQ, "flushq": memproto.BinFlushQ, "appendq": memproto.BinAppendQ,
	"prependq": memproto.BinPrependQ, "verbosity": memproto.BinVerbosity, "touch": memproto.BinTouch,
	"gat": memproto.BinGAT, "gatq": memproto.BinGATQ, "gatk": memproto.BinGATK, "gatkq": memproto.BinGATKQ,
	"sasl-list": memproto.BinSASLList, "sasl-auth": memproto.BinSASLAuth, "sasl-step": memproto.BinSASLStep,
}

func binOpName(op byte) string {
	for n, o := range binOpcodes {
		if byte(o) == op {
			return n
		}
	}
	return fmt.Sprintf("op=0x%02x", op)
}

// splitAttrs splits a request on spaces, keeping quoted values whole.
func splitAttrs(t testing.TB, s string) []string {
	var out []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		i := strings.IndexByte(s, ' ')
		if q := strings.IndexByte(s, '"'); q >= 0 && (i < 0 || q < i) {
			rest, err := strconv.QuotedPrefix(s[q:])
			if err != nil {
				t.Fatalf("bad quoting in %q: %v", s, err)
			}
			i = q + len(rest)
			if i == len(s) {
				i = -1
			}
		}
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return out
}

func unquoteAttr(t testing.TB, v string) string {
	if strings.HasPrefix(v, `"`) {
		u, err := strconv.Unquote(v)
		if err != nil {
			t.Fatalf("bad quoted value %s: %v", v, err)
		}
		return u
	}
	return v
}

// buildBinRequest turns one script request into bytes.
func buildBinRequest(t testing.TB, text string, opaque uint32, lastCAS uint64) []byte {
	f := splitAttrs(t, text)
	if f[0] == "raw" {
		b, err := hex.DecodeString(strings.Join(f[1:], ""))
		if err != nil {
			t.Fatalf("raw %q: %v", text, err)
		}
		return b
	}
	op, ok := binOpcodes[f[0]]
	if !ok {
		n, err := strconv.ParseUint(strings.TrimPrefix(f[0], "op=0x"), 16, 8)
		if err != nil || !strings.HasPrefix(f[0], "op=0x") {
			t.Fatalf("unknown opcode %q", f[0])
		}
		op = memproto.BinaryOpcode(n)
	}
	attrs := map[string]string{}
	for _, a := range f[1:] {
		k, v, _ := strings.Cut(a, "=")
		attrs[k] = unquoteAttr(t, v)
	}
	num := func(k string) uint64 {
		v, ok := attrs[k]
		if !ok {
			return 0
		}
		n, err := strconv.ParseUint(v, 0, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", k, v, err)
		}
		return n
	}
	var cas uint64
	if attrs["cas"] == "$cas" {
		cas = lastCAS
	} else {
		cas = num("cas")
	}
	value := []byte(attrs["value"])
	if _, ok := attrs["valuelen"]; ok {
		value = bytes.Repeat([]byte{'v'}, int(num("valuelen")))
	}
	var extras []byte
	l, _ := op.Loud()
	switch l {
	case memproto.BinSet, memproto.BinAdd, memproto.BinReplace:
		extras = binSetExtras(uint32(num("flags")), uint32(num("exp")))
	case memproto.BinIncrement, memproto.BinDecrement:
		extras = binary.BigEndian.AppendUint64(nil, num("delta"))
		extras = binary.BigEndian.AppendUint64(extras, num("initial"))
		exp := uint32(0xffffffff)
		if attrs["exp"] != "none" {
			exp = uint32(num("exp"))
		}
		extras = binary.BigEndian.AppendUint32(extras, exp)
	case memproto.BinTouch, memproto.BinGAT, memproto.BinGATK:
		extras = binary.BigEndian.AppendUint32(nil, uint32(num("exp")))
	case memproto.BinFlush:
		if _, ok := attrs["exp"]; ok {
			extras = binary.BigEndian.AppendUint32(nil, uint32(num("exp")))
		}
	}
	if x, ok := attrs["extras"]; ok {
		b, err := hex.DecodeString(x)
		if err != nil {
			t.Fatal(err)
		}
		extras = b
	}
	return binRequest(nil, op, opaque, cas, extras, []byte(attrs["key"]), value)
}

// runBinaryScript runs script against addr and renders the replies.
func runBinaryScript(t *testing.T, addr, script string) string {
	t.Helper()
	var sb strings.Builder
	var c net.Conn
	var lastCAS uint64
	const noopOpaque = 0xfeedface
	for ln, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if c == nil {
			var err error
			if c, err = net.Dial("tcp", addr); err != nil {
				t.Fatal(err)
			}
			defer c.Close()
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		var out []byte
		for i, r := range strings.Split(line, " ; ") {
			out = append(out, buildBinRequest(t, r, uint32(ln*16+i), lastCAS)...)
		}
		out = binRequest(out, memproto.BinNoop, noopOpaque, 0, nil, nil, nil)
		fmt.Fprintf(&sb, "> %s\n", line)
		if _, err := c.Write(out); err != nil {
			fmt.Fprintf(&sb, "write error\n")
		}
		for {
			p, err := readBinPacket(c)
			if err != nil {
				if err == io.EOF || isReset(err) {
					sb.WriteString("closed\n")
				} else {
					fmt.Fprintf(&sb, "read error\n")
				}
				c.Close()
				c = nil
				break
			}
			if p.opcode == byte(memproto.BinNoop) && p.opaque == noopOpaque {
				break
			}
			sb.WriteString(renderBinPacket(p))
			if p.cas != 0 {
				lastCAS = p.cas
			}
		}
	}
	return sb.String()
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset")
}

func renderBinPacket(p *binPacket) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "< %s status=0x%02x opaque=%d", binOpName(p.opcode), p.status, p.opaque%16)
	if p.magic != memproto.BinaryResponseMagic {
		fmt.Fprintf(&sb, " magic=0x%02x", p.magic)
	}
	if p.cas != 0 {
		fmt.Fprintf(&sb, " cas=%d", p.cas)
	}
	if len(p.extras) > 0 {
		fmt.Fprintf(&sb, " extras=%x", p.extras)
	}
	if len(p.key) > 0 {
		fmt.Fprintf(&sb, " key=%q", p.key)
	}
	switch {
	case p.opcode == byte(memproto.BinVersion) && p.status == 0:
		sb.WriteString(" value=VERSION")
	case p.opcode == byte(memproto.BinStat):
		if len(p.key) > 0 {
			return ""
		}
		fmt.Fprintf(&sb, " (end of stats)")
	case len(p.value) > 64:
		fmt.Fprintf(&sb, " valuelen=%d", len(p.value))
	case len(p.value) > 0:
		fmt.Fprintf(&sb, " value=%q", p.value)
	}
	sb.WriteString("\n")
	return sb.String()
}

// FuzzBinaryClient sends arbitrary bytes after a binary magic byte to the
// proxy in front of a real memcached, then closes its side: the proxy must
// answer what it can and close the connection (no panic, no hang), and go
// on serving new connections.
func FuzzBinaryClient(f *testing.F) {
	memcachedtest.Require(f)
	m := memcachedtest.Start(f)
	_, addr := startProxy(f, withServers(`{"pools":{"A":{"servers":["$0"]}},"route":"PoolRoute|A"}`, m), proxy.Options{MaxValueSize: 64 << 10})
	files, _ := filepath.Glob(filepath.Join("testdata", "binary", "*.txtar"))
	for _, file := range files {
		a, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, sec := range a.Files {
			if !strings.HasSuffix(sec.Name, "script") {
				continue
			}
			for _, line := range strings.Split(string(sec.Data), "\n") {
				line = strings.TrimSpace(line)
				if line == "" || strings.HasPrefix(line, "#") || strings.Contains(line, "valuelen") {
					continue
				}
				var in []byte
				for _, r := range strings.Split(line, " ; ") {
					in = append(in, buildBinRequest(f, r, 1, 0)...)
				}
				f.Add(in[1:])
			}
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(append([]byte{memproto.BinaryRequestMagic}, in...)); err != nil {
			return // closed early by the proxy: fine
		}
		_ = c.(*net.TCPConn).CloseWrite()
		if _, err := io.Copy(io.Discard, c); err != nil && !isReset(err) {
			t.Fatalf("reading the replies: %v", err)
		}
		// The proxy still serves.
		c2, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close()
		_ = c2.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c2.Write(binRequest(nil, memproto.BinNoop, 1, 0, nil, nil, nil)); err != nil {
			t.Fatal(err)
		}
		if p, err := readBinPacket(c2); err != nil || p.opcode != byte(memproto.BinNoop) {
			t.Fatalf("noop after the input: %+v %v", p, err)
		}
	})
}

// benchmarkProxyBinary is benchmarkProxy for a binary protocol request:
// each client sends req and reads one response, whose status must be 0.
func benchmarkProxyBinary(b *testing.B, req []byte) {
	m := memcachedtest.Start(b)
	_, addr := startProxy(b, withServers(onePool, m), proxy.Options{})
	m.Do("set bench:key:0000000000000000000000 0 0 100\r\n"+strings.Repeat("v", 100)+"\r\n", "STORED")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		for pb.Next() {
			if _, err := c.Write(req); err != nil {
				b.Error(err)
				return
			}
			if _, err := io.ReadFull(c, buf[:24]); err != nil {
				b.Error(err)
				return
			}
			if buf[6] != 0 || buf[7] != 0 {
				b.Errorf("status 0x%02x%02x", buf[6], buf[7])
				return
			}
			if _, err := io.ReadFull(c, buf[:binary.BigEndian.Uint32(buf[8:])]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkProxyBinaryGetHit is a binary Get hit through PoolRoute over
// one server.
func BenchmarkProxyBinaryGetHit(b *testing.B) {
	benchmarkProxyBinary(b, binRequest(nil, memproto.BinGet, 1, 0, nil, []byte("bench:key:0000000000000000000000"), nil))
}

// BenchmarkProxyBinarySet is a binary Set through PoolRoute over one
// server.
func BenchmarkProxyBinarySet(b *testing.B) {
	benchmarkProxyBinary(b, binRequest(nil, memproto.BinSet, 1, 0, binSetExtras(0, 0), []byte("bench:key:0000000000000000000000"), bytes.Repeat([]byte("v"), 100)))
}

// TestBinaryQuietGetsBatch checks that a client's run of quiet gets is
// routed concurrently, like the keys of one text multiget, not one
// request after another: the server behind the proxy answers nothing until
// it has received all of the run's requests. Routed one at a time, the
// first request would wait for its reply until the server timeout and the
// client would get an error.
func TestBinaryQuietGetsBatch(t *testing.T) {
	const n = 10
	addr := memcachedtest.Fake(t, func(_ int, c net.Conn, r *bufio.Reader) {
		var got int
		for got < n {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.HasPrefix(line, "mg ") {
				got++
			}
		}
		_, _ = c.Write(bytes.Repeat([]byte("EN\r\n"), n))
		_, _ = io.Copy(io.Discard, r)
	})
	_, paddr := startProxy(t, `{"pools":{"A":{"servers":["`+addr+`"]}},"route":"PoolRoute|A"}`, proxy.Options{})
	c, err := net.Dial("tcp", paddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var out []byte
	for i := range n {
		out = binRequest(out, memproto.BinGetKQ, uint32(i), 0, nil, []byte(fmt.Sprintf("k%d", i)), nil)
	}
	out = binRequest(out, memproto.BinNoop, 100, 0, nil, nil, nil)
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	p, err := readBinPacket(c)
	if err != nil {
		t.Fatal(err)
	}
	if p.opcode != byte(memproto.BinNoop) {
		t.Fatalf("first reply %s status 0x%02x %q: the quiet gets were not routed together", binOpName(p.opcode), p.status, p.value)
	}
}
