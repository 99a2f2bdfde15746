// Package busypoll runs Go's network poller in poll mode while a server is
// busy: it looks for network events at a fixed interval, spinning in
// between, instead of letting the scheduler sleep in epoll_wait until the
// next event arrives.
//
// A server whose thread sleeps after every burst of work pays for each
// wake-up: the sender's CPU interrupts the sleeping one (an inter-processor
// interrupt), and on a virtual machine without a polling idle driver both
// the halt and the interrupt exit to the hypervisor. A proxy forwarding
// small requests wakes tens of thousands of times a second, and each
// wake-up forwards only the few requests that arrived since the last one,
// so memcached, too, is woken for small batches. Poll mode trades a core
// and up to one interval of added latency per hop for fewer, larger
// batches — the effect of a network card's interrupt coalescing.
//
// Mechanism: a goroutine waits inside syscall.RawConn.Read on an eventfd
// registered with the runtime's poller. While polling, each time it runs it
// yields (runtime.Gosched) until the interval since its last poll has
// passed, so runnable goroutines run first, then writes the eventfd and
// returns to the poller. The write is a readiness edge: once the run queue
// is empty, the scheduler's non-blocking network poll reports the eventfd
// together with every socket that became ready meanwhile, and never
// reaches the blocking one. When no Active call came for the idle period,
// the goroutine drains the eventfd and waits for the next Active.
//
// Poll mode is meant for a server with a core of its own and GOMAXPROCS=1:
// it keeps that core busy while clients are active. With more processors
// it still works, but only the processor running the poller's goroutine
// polls; the others sleep as usual.
package busypoll

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// MaxInterval is the longest interval Start accepts: events wait up to one
// interval, so a longer one would add more latency than any batching
// saves.
const MaxInterval = time.Millisecond

// MinIdle is the shortest idle period: Start uses the larger of MinIdle and
// 20 intervals.
const MinIdle = time.Millisecond

// Poller polls the network at a fixed interval while Active is called. Its
// methods are safe for concurrent use; Active, Polling and Polls may be
// called on a nil *Poller (poll mode off).
type Poller struct {
	interval time.Duration
	idle     time.Duration
	ev       *eventFD

	activity atomic.Uint64 // Active calls
	polling  atomic.Bool
	polls    atomic.Uint64

	once sync.Once
	done chan struct{}
}

// Start starts a poller that, while Active is called, looks for network
// events every interval (0 < interval ≤ MaxInterval), and goes back to
// sleeping until the next Active once no Active came for the larger of
// MinIdle and 20 intervals. It starts idle. It returns an error if the
// platform has no eventfd (poll mode is Linux only). Close stops it.
func Start(interval time.Duration) (*Poller, error) {
	if interval <= 0 || interval > MaxInterval {
		return nil, fmt.Errorf("busypoll: interval %v: must be above 0 and at most %v", interval, MaxInterval)
	}
	ev, err := newEventFD()
	if err != nil {
		return nil, fmt.Errorf("busypoll: %w", err)
	}
	p := &Poller{interval: interval, idle: max(MinIdle, 20*interval), ev: ev, done: make(chan struct{})}
	go p.run()
	return p, nil
}

// Active tells the poller that the server has work: it polls from now on
// until the idle period passes without another call. It costs an atomic
// add, and a system call when the poller was idle.
func (p *Poller) Active() {
	if p == nil {
		return
	}
	p.activity.Add(1)
	if !p.polling.Load() && p.polling.CompareAndSwap(false, true) {
		p.ev.signal()
	}
}

// Polling reports whether the poller is polling (false for nil).
func (p *Poller) Polling() bool { return p != nil && p.polling.Load() }

// Polls returns the number of polls so far (0 for nil).
func (p *Poller) Polls() uint64 {
	if p == nil {
		return 0
	}
	return p.polls.Load()
}

// Close stops the poller and waits for its goroutine to end.
func (p *Poller) Close() error {
	var err error
	p.once.Do(func() {
		err = p.ev.close()
		<-p.done
	})
	return err
}

// run is the poller's goroutine; see the package comment.
func (p *Poller) run() {
	defer close(p.done)
	var seen uint64
	var lastActive, lastPoll time.Time
	err := p.ev.raw.Read(func(fd uintptr) bool {
		now := time.Now()
		if a := p.activity.Load(); a != seen {
			seen, lastActive = a, now
		}
		if !p.polling.Load() {
			// Idle (the first call, or an edge left from
			// before the last drain): wait for Active.
			drainFD(fd)
			return false
		}
		if now.Sub(lastActive) >= p.idle {
			drainFD(fd)
			p.polling.Store(false)
			// An Active between the check above and the store saw
			// polling still true and did not signal.
			if p.activity.Load() == seen || !p.polling.CompareAndSwap(false, true) {
				return false
			}
			lastActive = now
		}
		for now.Sub(lastPoll) < p.interval {
			runtime.Gosched()
			now = time.Now()
		}
		lastPoll = now
		p.polls.Add(1)
		signalFD(fd)
		return false
	})
	if err != nil && !errors.Is(err, os.ErrClosed) {
		// The eventfd failed: nothing polls any more, which is the
		// normal event-driven mode.
		p.polling.Store(false)
	}
}

// eventFD is a non-blocking eventfd registered with the runtime's poller.
type eventFD struct {
	f   *os.File
	raw syscall.RawConn
}

func (e *eventFD) close() error { return e.f.Close() }
