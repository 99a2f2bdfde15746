//go:build race

package proxy_test

// raceEnabled says that the race detector is on; sync.Pool then drops
// items on purpose, so allocation counts mean nothing.
const raceEnabled = true
