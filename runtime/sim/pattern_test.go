package sim

import (
	"errors"
	"strings"
	"testing"
)

func TestPattern(t *testing.T) {
	tests := []struct {
		pattern string
		n, seed uint64
		want    string
	}{
		{"key:{n}", 0, 0, "key:0"},
		{"key:{n}", 1234, 0, "key:1234"},
		{"user:{n:8}:session", 42, 0, "user:00000042:session"},
		{"{n:3}", 123456, 0, "123456"},
		{"{n:20}", 18446744073709551615, 0, "18446744073709551615"},
		{"{{x}}:{n}", 7, 0, "{x}:7"},
		{"k:{rand}", 0, 0, "k:" + appendHexString(mix64(0^mix64(0x5851f42d4c957f2d)))},
	}
	for _, tc := range tests {
		p, err := ParsePattern(tc.pattern)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", tc.pattern, err)
		}
		got := string(p.Append([]byte("prefix"), tc.n, tc.seed))
		if got != "prefix"+tc.want {
			t.Errorf("%q n=%d: got %q, want %q", tc.pattern, tc.n, got, "prefix"+tc.want)
		}
		if l := p.MaxLen(tc.n); l != len(tc.want) {
			t.Errorf("%q: MaxLen(%d) = %d, want %d", tc.pattern, tc.n, l, len(tc.want))
		}
	}
}

func appendHexString(v uint64) string { return string(appendHex16(nil, v)) }

func TestPatternRandDependsOnSeed(t *testing.T) {
	p, _ := ParsePattern("{rand}")
	a, b := string(p.Append(nil, 1, 1)), string(p.Append(nil, 1, 2))
	if a == b || len(a) != 16 {
		t.Errorf("{rand}: seed 1 %q, seed 2 %q", a, b)
	}
	if c := string(p.Append(nil, 2, 1)); c == a {
		t.Errorf("{rand}: keys 1 and 2 both %q", a)
	}
}

func TestParsePatternErrors(t *testing.T) {
	for pattern, want := range map[string]string{
		"key":         "no {n} or {rand}",
		"key:{n":      "unclosed {",
		"key:n}":      "} without {",
		"key:{x}":     "unknown field {x}",
		"key:{n:0}":   "width of {n:W}",
		"key:{n:21}":  "width of {n:W}",
		"key {n}":     "spaces or control characters",
		"key\t{n}":    "spaces or control characters",
		"key:{n:abc}": "width of {n:W}",
	} {
		_, err := ParsePattern(pattern)
		if err == nil || !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePattern(%q) = %v, want an ErrKey containing %q", pattern, err, want)
		}
	}
}

func TestCheckKey(t *testing.T) {
	if msg := checkKey([]byte(strings.Repeat("a", MaxKeyLen))); msg != "" {
		t.Errorf("250-byte key: %s", msg)
	}
	if msg := checkKey([]byte(strings.Repeat("a", MaxKeyLen+1))); msg == "" {
		t.Error("251-byte key accepted")
	}
	if msg := checkKey([]byte("a b")); msg == "" {
		t.Error("key with a space accepted")
	}
}
