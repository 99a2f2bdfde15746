package sockio_test

import (
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcroute/mcroute/internal/sockio"
	"github.com/mcroute/mcroute/runtime/memproto"
)

// pair returns the two ends of a loopback TCP connection and the raw
// connection of the first.
func pair(t *testing.T) (*net.TCPConn, *net.TCPConn, syscall.RawConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	raw, err := a.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	return a.(*net.TCPConn), b.(*net.TCPConn), raw
}

// TestSource: ErrWouldBlock on an empty socket, the data, a skipped read
// after a short one, then the end of input; the fallback outside a
// callback.
func TestSource(t *testing.T) {
	_, b, raw := pair(t)
	src := sockio.NewSource(nil)
	var n int
	var err error
	read := func() {
		buf := make([]byte, 16)
		if cerr := raw.Control(func(fd uintptr) {
			src.FD = int(fd)
			src.Begin()
			n, err = src.Read(buf)
			src.FD = -1
		}); cerr != nil {
			t.Fatal(cerr)
		}
	}
	if read(); err != memproto.ErrWouldBlock || src.Skipped() {
		t.Fatalf("read of an empty socket: %d, %v; want ErrWouldBlock, not skipped", n, err)
	}
	if _, werr := b.Write([]byte("hello")); werr != nil {
		t.Fatal(werr)
	}
	deadline := time.Now().Add(5 * time.Second)
	for read(); err == memproto.ErrWouldBlock && time.Now().Before(deadline); read() {
		time.Sleep(time.Millisecond)
	}
	if n != 5 || err != nil {
		t.Fatalf("read: %d, %v; want 5, nil", n, err)
	}
	// The read was short: the next one, in the same callback, is skipped.
	_ = raw.Control(func(fd uintptr) {
		src.FD = int(fd)
		n, err = src.Read(make([]byte, 16))
		src.FD = -1
	})
	if err != memproto.ErrWouldBlock || !src.Skipped() {
		t.Fatalf("read after a short read: %d, %v, skipped %v; want a skipped read", n, err, src.Skipped())
	}
	b.Close()
	for read(); err == memproto.ErrWouldBlock && time.Now().Before(deadline); read() {
		time.Sleep(time.Millisecond)
	}
	if n != 0 || err != io.EOF {
		t.Fatalf("read at the end of input: %d, %v; want 0, EOF", n, err)
	}
	if n, err := sockio.NewSource(strings.NewReader("abc")).Read(make([]byte, 8)); n != 3 || err != nil {
		t.Fatalf("fallback read: %d, %v", n, err)
	}
	if _, err := sockio.NewSource(nil).Read(make([]byte, 8)); err != memproto.ErrWouldBlock {
		t.Fatalf("read outside a callback without fallback: %v", err)
	}
}

func TestWriteFillsSendBuffer(t *testing.T) {
	_, _, raw := pair(t)
	big := make([]byte, 64<<20)
	var n int
	var err error
	if cerr := raw.Control(func(fd uintptr) { n, err = sockio.Write(int(fd), big) }); cerr != nil {
		t.Fatal(cerr)
	}
	if err != syscall.EAGAIN || n <= 0 || n >= len(big) {
		t.Fatalf("write of 64 MiB nobody reads: %d, %v; want a partial write and EAGAIN", n, err)
	}
}

func TestInputPending(t *testing.T) {
	_, b, raw := pair(t)
	if sockio.InputPending(raw) {
		t.Fatal("empty socket reported pending")
	}
	b.Close()
	deadline := time.Now().Add(5 * time.Second)
	for !sockio.InputPending(raw) {
		if time.Now().After(deadline) {
			t.Fatal("end of input not reported")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSweeper: a parked waiter whose socket has input pending is woken
// once; one that was unparked in time, or has nothing pending, is not.
func TestSweeper(t *testing.T) {
	const interval = 10 * time.Millisecond
	s := sockio.NewSweeper(interval)
	defer s.Stop()
	add := func() (*sockio.Waiter, *net.TCPConn) {
		a, b, raw := pair(t)
		w := s.Add(a, raw)
		t.Cleanup(w.Remove)
		return w, b
	}
	waitWoken := func(w *sockio.Waiter, what string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !w.Woken(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal(what)
			}
		}
	}

	w1, b1 := add()
	w2, _ := add()
	w3, b3 := add()
	b1.Close() // an end of input the loop of w1 did not see
	w1.Park()
	w2.Park()  // nothing pending
	b3.Close() // pending, but w3 runs again before the sweep
	w3.Park()
	w3.Unpark()

	waitWoken(w1, "parked waiter with an end of input pending was not woken")
	time.Sleep(5 * interval)
	if w1.Woken() {
		t.Error("waiter woken twice for one park")
	}
	if w2.Woken() {
		t.Error("waiter with nothing pending was woken")
	}
	if w3.Woken() {
		t.Error("unparked waiter was woken")
	}

	// Parked again after it was checked: checked again.
	w2.Park()
	start := time.Now()
	w1.Park()
	waitWoken(w1, "waiter parked a second time was not woken")
	if el := time.Since(start); el < interval/2 {
		t.Errorf("woken after %v, before a sweep interval had passed", el)
	}
}

// TestReadWokenAfterSkippedRead: data and the end of input arrive before
// the loop reads; its short read drains the data, the next read is
// skipped and the loop waits, and only the sweeper can tell it that the
// end of input is there. Read returns (the wake-up), and the next Read
// sees the end of input.
func TestReadWokenAfterSkippedRead(t *testing.T) {
	s := sockio.NewSweeper(10 * time.Millisecond)
	defer s.Stop()
	a, b, raw := pair(t)
	w := s.Add(a, raw)
	defer w.Remove()
	if _, err := b.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	b.Close()
	time.Sleep(50 * time.Millisecond) // both are in a's receive queue
	src := sockio.NewSource(nil)
	var got []byte
	var last error
	step := func() (done, wait bool) {
		buf := make([]byte, 16)
		n, err := src.Read(buf)
		got = append(got, buf[:n]...)
		last = err
		switch err {
		case nil:
			return false, false
		case memproto.ErrWouldBlock:
			return false, true
		}
		return true, false
	}
	err := w.Read(src, step)
	if string(got) != "abc" || last != memproto.ErrWouldBlock || err == nil || !w.Woken() {
		t.Fatalf("first Read: got %q, last read %v, Read %v; want abc, a skipped read, and a wake-up", got, last, err)
	}
	_ = a.SetReadDeadline(time.Time{})
	if err := w.Read(src, step); err != nil || last != io.EOF {
		t.Fatalf("second Read: %v, last read %v; want nil and EOF", err, last)
	}
}
