package memproto

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/rogpeppe/go-internal/txtar"
)

// This file compares the reader and reply writer with a real memcached 1.6:
// the same bytes go to memcached and to a small in-memory server built from
// Reader, a fake store and AppendReply, and the replies (and whether the
// connection was closed) must be identical.

var memcached struct {
	once    sync.Once
	cmd     *exec.Cmd
	addr    string
	version string
	err     error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if memcached.cmd != nil && memcached.cmd.Process != nil {
		memcached.cmd.Process.Kill()
		memcached.cmd.Wait()
	}
	os.Exit(code)
}

// startMemcached starts one memcached for the test binary (text protocol
// only, so that a leading 0x80 byte is not taken for the binary protocol),
// or skips the test when memcached is not installed.
func startMemcached(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("memcached")
	if err != nil {
		t.Skip("memcached not on PATH")
	}
	memcached.once.Do(func() {
		for range 5 {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				memcached.err = err
				return
			}
			port := l.Addr().(*net.TCPAddr).Port
			l.Close()
			args := []string{"-p", strconv.Itoa(port), "-U", "0", "-l", "127.0.0.1", "-B", "ascii", "-t", "1"}
			if os.Getuid() == 0 {
				args = append(args, "-u", "root")
			}
			cmd := exec.Command(path, args...)
			if err := cmd.Start(); err != nil {
				memcached.err = err
				return
			}
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			for range 100 {
				c, err := net.Dial("tcp", addr)
				if err == nil {
					c.Write([]byte("version\r\n"))
					c.SetReadDeadline(time.Now().Add(time.Second))
					buf := make([]byte, 100)
					n, _ := c.Read(buf)
					c.Close()
					v, ok := strings.CutPrefix(string(buf[:n]), "VERSION ")
					if ok {
						memcached.cmd, memcached.addr = cmd, addr
						memcached.version = strings.TrimSpace(v)
						return
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
			cmd.Process.Kill()
			cmd.Wait()
		}
		memcached.err = errors.New("memcached did not start")
	})
	if memcached.err != nil {
		t.Fatal(memcached.err)
	}
	return memcached.addr
}

// exchangeMemcached sends input on a new connection and collects the
// replies: until the connection closes, or until want bytes (what the
// emulation produced) have arrived and nothing more follows, or a timeout.
func exchangeMemcached(t *testing.T, addr string, input []byte, want int, wantClosed bool) (out []byte, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go c.Write(input)
	deadline := time.Now().Add(3 * time.Second)
	if want == 0 && !wantClosed {
		deadline = time.Now().Add(300 * time.Millisecond)
	}
	buf := make([]byte, 64<<10)
	for {
		d := deadline
		if len(out) >= want && !wantClosed {
			d = time.Now().Add(20 * time.Millisecond)
		}
		c.SetReadDeadline(d)
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return out, false
			}
			return out, true
		}
	}
}

// emulate serves input like memcached would, using Reader, a fake store and
// AppendReply.
func emulate(input []byte, version string) (out []byte, closed bool) {
	st := &fakeStore{m: map[string]*fakeItem{}, version: version}
	r := NewReader(bytes.NewReader(input))
	var cmd Command
	var req mc.Request
	for {
		err := r.ReadCommand(&cmd)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				return out, false
			}
			out = pe.AppendTo(out)
			if pe.Close {
				return out, true
			}
			if pe.Invalidate != nil {
				st.do(pe.Invalidate)
			}
			continue
		}
		if cmd.Op == mc.OpQuit {
			return out, true
		}
		if cmd.Meta == 0 && cmd.Op.IsGetLike() {
			for i := range cmd.Keys {
				cmd.Request(i, &req)
				rep := st.do(&req)
				out = AppendReply(out, &req, &rep)
			}
			out = AppendEnd(out)
			continue
		}
		cmd.Request(0, &req)
		rep := st.do(&req)
		out = AppendReply(out, &req, &rep)
	}
}

type fakeItem struct {
	value  []byte
	flags  uint32
	cas    uint64
	binary bool // stored by a meta command with the b flag
}

// fakeStore is just enough of memcached's semantics for the comparison.
type fakeStore struct {
	m       map[string]*fakeItem
	cas     uint64
	version string
}

func (s *fakeStore) put(key string, value []byte, flags uint32, exptime int64) *fakeItem {
	s.cas++
	it := &fakeItem{value: bytes.Clone(value), flags: flags, cas: s.cas}
	if exptime < 0 {
		delete(s.m, key) // expires at once
	} else {
		s.m[key] = it
	}
	return it
}

func (s *fakeStore) do(req *mc.Request) mc.Reply {
	key := string(req.Key)
	it := s.m[key]
	switch req.Op {
	case mc.OpGet, mc.OpGets, mc.OpGat, mc.OpGats:
		if it == nil {
			return mc.Reply{Result: mc.ResNotFound}
		}
		rep := mc.Reply{Result: mc.ResFound, Value: it.value, Flags: it.flags, CAS: it.cas}
		if req.Meta == 'g' {
			rep.MetaFlags = metaHitFlags(req, it)
		}
		touch := req.Op == mc.OpGat || req.Op == mc.OpGats || (req.Meta == 'g' && hasFlag(req.MetaFlags, 'T'))
		if touch && req.Exptime < 0 {
			delete(s.m, key)
		}
		return rep
	case mc.OpSet, mc.OpAdd, mc.OpReplace, mc.OpAppend, mc.OpPrepend, mc.OpCas:
		switch req.Op {
		case mc.OpAdd:
			if it != nil {
				return mc.Reply{Result: mc.ResNotStored}
			}
		case mc.OpReplace, mc.OpAppend, mc.OpPrepend:
			if it == nil {
				return mc.Reply{Result: mc.ResNotStored}
			}
		case mc.OpCas:
			if it == nil {
				return mc.Reply{Result: mc.ResNotFound}
			}
			if it.cas != req.CAS {
				return mc.Reply{Result: mc.ResExists}
			}
		}
		value, flags, exptime := req.Value, req.Flags, req.Exptime
		switch req.Op {
		case mc.OpAppend:
			value, flags, exptime = append(bytes.Clone(it.value), value...), it.flags, 0
		case mc.OpPrepend:
			value, flags, exptime = append(bytes.Clone(value), it.value...), it.flags, 0
		}
		n := s.put(key, value, flags, exptime)
		n.binary = req.Meta == 's' && hasFlag(req.MetaFlags, 'b')
		return mc.Reply{Result: mc.ResStored, CAS: n.cas}
	case mc.OpDelete:
		if it == nil {
			return mc.Reply{Result: mc.ResNotFound}
		}
		if req.Meta == 'd' && hasFlag(req.MetaFlags, 'C') && it.cas != req.CAS {
			return mc.Reply{Result: mc.ResExists}
		}
		delete(s.m, key)
		return mc.Reply{Result: mc.ResDeleted}
	case mc.OpIncr, mc.OpDecr:
		if it == nil {
			if req.Meta == 'a' && hasFlag(req.MetaFlags, 'N') {
				init := uint64(0)
				if j := findFlag(req.MetaFlags, 'J'); j != nil {
					init, _ = cstrtoull(j[1:])
				}
				v := strconv.AppendUint(nil, init, 10)
				s.put(key, v, 0, 0)
				return mc.Reply{Result: mc.ResStored, Value: v}
			}
			return mc.Reply{Result: mc.ResNotFound}
		}
		if req.Meta == 'a' && hasFlag(req.MetaFlags, 'C') && it.cas != req.CAS {
			return mc.Reply{Result: mc.ResExists}
		}
		n, ok := cstrtoull(it.value)
		if !ok {
			return mc.Reply{Result: mc.ResClientError, Message: "cannot increment or decrement non-numeric value"}
		}
		if req.Op == mc.OpIncr {
			n += req.Delta
		} else if req.Delta > n {
			n = 0
		} else {
			n -= req.Delta
		}
		v := strconv.AppendUint(nil, n, 10)
		stored := v
		if len(v) < len(it.value) { // memcached updates in place, padding with spaces
			stored = append(bytes.Clone(v), bytes.Repeat([]byte(" "), len(it.value)-len(v))...)
		}
		s.put(key, stored, it.flags, 0)
		return mc.Reply{Result: mc.ResStored, Value: v}
	case mc.OpTouch:
		if it == nil {
			return mc.Reply{Result: mc.ResNotFound}
		}
		if req.Exptime < 0 {
			delete(s.m, key)
		}
		return mc.Reply{Result: mc.ResTouched}
	case mc.OpFlushAll:
		if req.Exptime <= 0 {
			clear(s.m)
		}
		return mc.Reply{Result: mc.ResOK}
	case mc.OpVersion:
		return mc.Reply{Result: mc.ResOK, Value: []byte(s.version)}
	case mc.OpVerbosity, mc.OpNoop:
		return mc.Reply{Result: mc.ResOK}
	}
	return mc.Reply{Result: mc.ResLocalError, Message: "fake store: " + req.Op.String()}
}

// metaHitFlags returns the return flags memcached gives for an mg hit
// (those the comparison uses).
func metaHitFlags(req *mc.Request, it *fakeItem) []byte {
	var out []byte
	for rest := req.MetaFlags; len(rest) > 0; {
		var tok []byte
		tok, rest = nextToken(rest)
		if len(tok) == 0 {
			break
		}
		switch tok[0] {
		case 's':
			out = fmt.Appendf(out, " s%d", len(it.value))
		case 'f':
			out = fmt.Appendf(out, " f%d", it.flags)
		case 'c':
			out = fmt.Appendf(out, " c%d", it.cas)
		case 'k':
			if it.binary {
				out = append(append(out, " k"...), b64encode(nil, req.Key)...)
				out = append(out, " b"...)
			} else {
				out = append(append(out, " k"...), req.Key...)
			}
		}
	}
	return bytes.TrimLeft(out, " ")
}

// Sections of the golden files whose replies legitimately differ from
// memcached 1.6.18's.
var memcachedSkip = map[string]string{
	"classic.txtar/admin":                   "stats and shutdown are answered by the proxy",
	"meta.txtar/mg_flags":                   "E, x and S flags (newer memcached) and N/R/t/h/l/c need a real cache",
	"meta.txtar/ms":                         "the fake store does not model I (invalidate)",
	"meta.txtar/md_ma":                      "md x flag (newer memcached) and t/c return values",
	"limits.txtar/get_over_max_line":        "memcached does not bound multiget lines; Reader.MaxLineSize does",
	"classic_errors.txtar/resync":           whyResync,
	"meta.txtar/ms_resync":                  whyResync,
	"limits.txtar/long_key_set":             whyResync,
	"classic_errors.txtar/slabs_wellformed": whySlabs,
}

const (
	whyResync = "memcached reads the data block of a rejected storage command as a command; the Reader skips it"
	whySlabs  = "well-formed slabs commands are not passed to servers"
)

type memcachedCase struct {
	name  string
	input []byte
}

// goldenReaderInputs returns the input sections (NAME.in) of every
// testdata/reader/*.txtar archive, named FILE/NAME.
func goldenReaderInputs(t *testing.T) []memcachedCase {
	files, err := filepath.Glob("testdata/reader/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	var cases []memcachedCase
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			name, ok := strings.CutSuffix(f.Name, ".in")
			if !ok {
				continue
			}
			cases = append(cases, memcachedCase{filepath.Base(file) + "/" + name, unescapeLines(t, f.Data)})
		}
	}
	return cases
}

// memcachedCases returns every golden input and the extra cases below.
func memcachedCases(t *testing.T) []memcachedCase {
	cases := goldenReaderInputs(t)
	for i, in := range extraMemcachedCases {
		cases = append(cases, memcachedCase{fmt.Sprintf("extra/%d", i), []byte(in)})
	}
	return cases
}

// TestAgainstMemcached replays every golden input (and the extra cases
// below) against memcached and the emulation. The cases share one
// memcached and run one after the other.
func TestAgainstMemcached(t *testing.T) {
	addr := startMemcached(t)
	for _, tc := range memcachedCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			if why, ok := memcachedSkip[tc.name]; ok {
				t.Skip(why)
			}
			// A fresh cache for every case: flush_all first (memcached keeps
			// items stored after a flush in the same second).
			input := append([]byte("flush_all noreply\r\n"), tc.input...)
			want, wantClosed := emulate(input, memcached.version)
			got, closed := exchangeMemcached(t, addr, input, len(want), wantClosed)
			if !bytes.Equal(got, want) || closed != wantClosed {
				t.Errorf("input %s\nmemcached (closed=%v): %s\nemulation (closed=%v): %s",
					clip(input), closed, clip(got), wantClosed, clip(want))
			}
		})
	}
}

func clip(b []byte) string {
	if len(b) > 600 {
		return strconv.Quote(string(b[:300])) + "..." + strconv.Quote(string(b[len(b)-300:]))
	}
	return strconv.Quote(string(b))
}

// Inputs whose proxied replies legitimately differ from memcached's.
var proxySkip = map[string]string{
	"classic.txtar/admin":                   "stats and shutdown are answered by the proxy",
	"meta.txtar/mg_flags":                   "c, h and l return values differ between the two runs",
	"limits.txtar/get_over_max_line":        "memcached does not bound multiget lines; Reader.MaxLineSize does",
	"meta.txtar/md_ma":                      "c return values differ between the two runs; me of an existing item",
	"classic_errors.txtar/resync":           whyResync,
	"meta.txtar/ms_resync":                  whyResync,
	"limits.txtar/long_key_set":             whyResync,
	"classic_errors.txtar/slabs_wellformed": whySlabs,
}

// TestProxyTransparency plays a proxy in front of memcached: client input
// goes through Reader, each request through AppendRequest to memcached,
// each reply through ReplyReader and AppendReply back. The client must get
// exactly what memcached itself answers to the same input.
func TestProxyTransparency(t *testing.T) {
	addr := startMemcached(t)
	for _, tc := range memcachedCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			if why, ok := proxySkip[tc.name]; ok {
				t.Skip(why)
			}
			input := append([]byte("flush_all noreply\r\n"), tc.input...)
			proxied, proxClosed := proxyServe(t, addr, input)
			direct, closed := exchangeMemcached(t, addr, input, len(proxied), proxClosed)
			if !bytes.Equal(direct, proxied) || closed != proxClosed {
				t.Errorf("input %s\nmemcached (closed=%v): %s\nproxied (closed=%v): %s",
					clip(input), closed, clip(direct), proxClosed, clip(proxied))
			}
		})
	}
}

// proxyServe serves input like a proxy in front of the memcached at addr.
func proxyServe(t *testing.T, addr string, input []byte) (out []byte, closed bool) {
	t.Helper()
	be, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	be.SetDeadline(time.Now().Add(5 * time.Second))
	rr := NewReplyReader(be)
	r := NewReader(bytes.NewReader(input))
	var cmd Command
	var req mc.Request
	var rep mc.Reply
	var wire []byte
	forward := func() {
		if !Forwardable(req.Op) {
			rep = mc.Reply{Result: mc.ResOK} // verbosity
		} else {
			wire = AppendRequest(wire[:0], &req, req.Key)
			if _, err := be.Write(wire); err != nil {
				t.Fatal(err)
			}
			if err := rr.ReadReply(req.Op, req.Meta, &rep); err != nil {
				t.Fatalf("reply to %q: %v", wire, err)
			}
		}
		out = AppendReply(out, &req, &rep)
	}
	for {
		err := r.ReadCommand(&cmd)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				return out, false
			}
			out = pe.AppendTo(out)
			if pe.Close {
				return out, true
			}
			if pe.Invalidate != nil {
				// The delete memcached makes itself; its reply is
				// not for the client.
				wire = AppendRequest(wire[:0], pe.Invalidate, pe.Invalidate.Key)
				if _, err := be.Write(wire); err != nil {
					t.Fatal(err)
				}
				if err := rr.ReadReply(mc.OpDelete, pe.Invalidate.Meta, &rep); err != nil {
					t.Fatalf("reply to %q: %v", wire, err)
				}
			}
			continue
		}
		if cmd.Op == mc.OpQuit {
			return out, true
		}
		if cmd.Meta == 0 && cmd.Op.IsGetLike() {
			for i := range cmd.Keys {
				cmd.Request(i, &req)
				forward()
			}
			out = AppendEnd(out)
			continue
		}
		cmd.Request(0, &req)
		forward()
	}
}

// Stateful sequences on top of the golden inputs.
var extraMemcachedCases = []string{
	"set a 5 0 3\r\nabc\r\nget a b a\r\nappend a 0 0 2\r\nde\r\nprepend a 9 9 1\r\nx\r\nget a\r\n",
	"add a 0 0 1\r\n1\r\nadd a 0 0 1\r\n2\r\nreplace a 0 0 1\r\n3\r\nreplace b 0 0 1\r\n4\r\nget a b\r\n",
	"set n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 100\r\nget n\r\nincr n 18446744073709551615\r\nincr n 2\r\n",
	"set n 0 0 1\r\nx\r\nincr n 1\r\ndecr n 1 noreply\r\nincr nope 1\r\n",
	"set t 0 0 1\r\nx\r\ntouch t 100\r\ntouch nope 1\r\ntouch t -1\r\nget t\r\n",
	"set d 0 0 1\r\nx\r\ndelete d\r\ndelete d\r\ndelete d noreply\r\nget d\r\n",
	"set g 3 0 2\r\nhi\r\ngat 100 g nope\r\ngat -1 g\r\nget g\r\n",
	"cas c 0 0 1 1\r\nx\r\nset c 0 0 1\r\nx\r\ncas c 0 0 1 999999\r\ny\r\nget c\r\n",
	"set k 0 0 1 noreply\r\nx\r\nset k 0 0 1 noreply\r\nxx\r\nget k\r\nmn\r\n",
	"ms m 2 F3 T0\r\nhi\r\nmg m v f s k O7\r\nmg m k q\r\nmg m\r\nmg nope v q\r\nmg nope v k O1\r\nmn\r\n",
	"ms m 1 ME\r\na\r\nms m 1 ME\r\nb\r\nms m 1 MA\r\nc\r\nms m 1 MP q\r\nd\r\nms nope 1 MR k O2\r\ne\r\nmg m v\r\n",
	"ms m 1 MR\r\na\r\nms m 1 MA q\r\nb\r\nms m 1 q\r\nc\r\nms m 1 q k O3\r\nc\r\nmn\r\n",
	"md nope\r\nmd nope q\r\nms x 1\r\na\r\nmd x q\r\nmd x k O4\r\nms y 1\r\nb\r\nmd y k O5\r\nmn\r\n",
	"ma nope\r\nma nope q\r\nma nope N0 J10 v\r\nma nope v D5\r\nma nope MD D100 v k O6\r\nma nope q v\r\nma nope M- q\r\nmn\r\nmg nope v\r\n",
	"ms b64 1 b\r\na\r\nms YWJj 1 b k O9\r\nx\r\nmg YWJj b v k\r\nmg abc v k\r\nmd YWJj b k q\r\nmg abc v\r\nmn\r\n",
	"mg missing k O1 v s\r\nma missing k O2\r\nmd missing O3 k\r\nms missing 1 MR O4 k\r\nz\r\n",
	"set a 0 0 1\r\nx\r\nmg a v\r\nmg a s v f\r\nms a 3 MA\r\nyyy\r\nget a\r\n",
	"get a\r\nversion\r\nverbosity 0\r\nflush_all 0\r\nflush_all noreply\r\nmn\r\n",
	"set a 0 0 1\r\nx\r\nquit\r\nget a\r\n",
	"get a\r\nget b\r\n" + strings.Repeat("x", 3000),
	"set big 0 0 2000000\r\n" + strings.Repeat("v", 2000000) + "\r\nget big\r\nset k 0 0 1\r\nz\r\nget k\r\n",
	"ms big 2000000 T0\r\n" + strings.Repeat("v", 2000000) + "\r\nmn\r\n",
	"set k 0 0 5\r\nabc\r\n\r\nget k\r\n",
	"set k 0 0 5\r\nabcde\n\r\nget k\r\n",
	"get k\r\n\x00\x00\x00\r\nget k\r\n",
	"gets nope\r\ngats 0 nope\r\nbget nope\r\n",
	// memcached accepts control characters in keys (only space, newline
	// and NUL are special).
	"set a\tb 0 0 1\r\nx\r\nget a\tb\r\nset \x01\x02\x7f\xff 0 0 1\r\ny\r\nget \x01\x02\x7f\xff\r\nget a\tb\x00junk\r\n",
	"set k\r 0 0 1\r\nx\r\nget k\r\r\nget k\r\n",
}
