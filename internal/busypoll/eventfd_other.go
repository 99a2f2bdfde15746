//go:build !linux

package busypoll

import "errors"

func newEventFD() (*eventFD, error) {
	return nil, errors.New("poll mode needs Linux (eventfd)")
}

func (e *eventFD) signal() {}
func signalFD(uintptr)     {}
func drainFD(uintptr)      {}
