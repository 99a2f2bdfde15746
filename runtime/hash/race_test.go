//go:build race

package hash_test

const raceEnabled = true
