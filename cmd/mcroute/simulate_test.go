package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/runtime/sim"
)

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (ptm, pts *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { ptm.Close() })
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	pts, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pts: %v", err)
	}
	t.Cleanup(func() { pts.Close() })
	return ptm, pts
}

// lockedBuffer collects what a reader goroutine reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// simulateInBackground runs a simulation of many keys until the returned
// function is called.
func simulateInBackground(t *testing.T, p *sim.Progress) (stop func()) {
	t.Helper()
	l := mcrouterjson.LoadBytes("three.json", []byte(`{"pools": {"A": {"servers": ["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"]}}, "route": "PoolRoute|A"}`), mcrouterjson.LoadOptions{})
	if l.Config == nil {
		t.Fatal(l.Diagnostics)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		sim.Run(ctx, sim.Options{Config: l.Config, Keys: 1e12, Workers: 1, Progress: p})
	}()
	return func() { cancel(); <-done }
}

// TestProgressBarOnTerminal: on a terminal, the bar shows the keys done
// out of the total and the rate, and is erased when the run ends.
func TestProgressBarOnTerminal(t *testing.T) {
	ptm, pts := openPTY(t)
	var out lockedBuffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptm.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	p := &sim.Progress{}
	stopSim := simulateInBackground(t, p)
	stop := startProgress(&env{stderr: pts}, p, 1e12, 0, 0)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "keys/s") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	stopSim()
	time.Sleep(50 * time.Millisecond) // let the reader see the erase
	got := out.String()
	if !strings.Contains(got, "/1000G keys") || !strings.Contains(got, "keys/s") || !strings.Contains(got, "\r[") {
		t.Fatalf("no progress bar on the terminal: %q", got)
	}
	if !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("the bar is not erased at the end: %q", got[max(0, len(got)-80):])
	}
}

// TestNoProgressBarOffTerminal: when standard error is a file or a pipe,
// nothing is drawn.
func TestNoProgressBarOffTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	for _, w := range []interface{ Write([]byte) (int, error) }{f, &buf} {
		p := &sim.Progress{}
		stopSim := simulateInBackground(t, p)
		stop := startProgress(&env{stderr: w}, p, 1e12, 0, 0)
		for p.Keys() == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
		stop()
		stopSim()
	}
	if fi, _ := f.Stat(); fi.Size() != 0 || buf.Len() != 0 {
		t.Errorf("progress written off a terminal: file %d bytes, buffer %q", fi.Size(), buf.String())
	}
}

func TestKeyCount(t *testing.T) {
	for in, want := range map[string]int64{"1000": 1000, "250k": 250_000, "100M": 100_000_000, "1e6": 1_000_000, "1_000_000": 1_000_000, "1.5k": 1500, "2G": 2_000_000_000} {
		var k keyCount
		if err := k.UnmarshalText([]byte(in)); err != nil || int64(k) != want {
			t.Errorf("keyCount(%q) = %d, %v; want %d", in, k, err, want)
		}
	}
	for _, in := range []string{"", "0", "-5", "1.5", "k", "1x", "1e16", "0.5k5", "NaN", "Inf"} {
		var k keyCount
		if err := k.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("keyCount(%q) = %d, want an error", in, k)
		}
	}
}

// FuzzKeyCount: no input panics, and accepted counts are positive whole
// numbers.
func FuzzKeyCount(f *testing.F) {
	for _, s := range []string{"1000", "250k", "1e6", "1_0", "1.5k", "-1", "9e99", "0x10", "1e-3M"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var k keyCount
		if err := k.UnmarshalText([]byte(s)); err == nil && k < 1 {
			t.Fatalf("keyCount(%q) = %d", s, k)
		}
	})
}
