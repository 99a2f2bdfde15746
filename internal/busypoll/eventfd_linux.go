package busypoll

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

func newEventFD() (*eventFD, error) {
	fd, _, errno := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return nil, fmt.Errorf("eventfd: %w", errno)
	}
	f := os.NewFile(fd, "busypoll")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &eventFD{f: f, raw: raw}, nil
}

// signal signals the eventfd from outside its Read callback; it does
// nothing once the eventfd is closed (Control holds the descriptor, which
// could otherwise be reused by another file meanwhile).
func (e *eventFD) signal() {
	_ = e.raw.Control(signalFD)
}

// signalFD adds one to the counter of the eventfd fd, which the poller
// reports as a readiness edge. The write cannot block: the counter would
// need 2^64-2 signals without a drain to fill.
func signalFD(fd uintptr) {
	one := uint64(1)
	_, _, _ = syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&one)), 8)
}

// drainFD resets the counter of the eventfd fd.
func drainFD(fd uintptr) {
	var v uint64
	_, _, _ = syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&v)), 8)
}
