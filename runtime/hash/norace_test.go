//go:build !race

package hash_test

const raceEnabled = false
