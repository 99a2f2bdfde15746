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

	_, b1, raw1 := pair(t)
	woken1 := make(chan struct{}, 10)
	w1 := s.Add(raw1, func() { woken1 <- struct{}{} })
	defer w1.Remove()

	_, _, raw2 := pair(t)
	woken2 := make(chan struct{}, 10)
	w2 := s.Add(raw2, func() { woken2 <- struct{}{} })
	defer w2.Remove()

	_, b3, raw3 := pair(t)
	woken3 := make(chan struct{}, 10)
	w3 := s.Add(raw3, func() { woken3 <- struct{}{} })
	defer w3.Remove()

	b1.Close() // an end of input the loop of w1 did not see
	w1.Park()
	w2.Park()  // nothing pending
	b3.Close() // pending, but w3 runs again before the sweep
	w3.Park()
	w3.Unpark()

	select {
	case <-woken1:
	case <-time.After(5 * time.Second):
		t.Fatal("parked waiter with an end of input pending was not woken")
	}
	time.Sleep(5 * interval)
	if len(woken1) != 0 {
		t.Error("waiter woken twice for one park")
	}
	if len(woken2) != 0 {
		t.Error("waiter with nothing pending was woken")
	}
	if len(woken3) != 0 {
		t.Error("unparked waiter was woken")
	}

	// Parked again after it was checked: checked again.
	w2.Park()
	start := time.Now()
	w1.Park()
	select {
	case <-woken1:
		if el := time.Since(start); el < interval/2 {
			t.Errorf("woken after %v, before a sweep interval had passed", el)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiter parked a second time was not woken")
	}
}
