package hash_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/mcroute/mcroute/runtime/hash"
)

// row is one line of a testdata/*.tsv vector file, keyed by header name.
type row struct {
	line   int
	fields map[string]string
}

func (r row) String() string {
	return "line " + strconv.Itoa(r.line) + " " + strconv.Quote(strings.Join(mapValues(r.fields), " | "))
}

func mapValues(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// readTSV reads testdata/name. The files have a header line, TAB-separated
// fields, no quoting, and no TAB/CR/LF inside fields; empty fields are
// significant.
func readTSV(t testing.TB, name string) []row {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	header := strings.Split(lines[0], "\t")
	var rows []row
	for i, l := range lines[1:] {
		f := strings.Split(l, "\t")
		if len(f) != len(header) {
			t.Fatalf("%s:%d: %d fields, want %d", name, i+2, len(f), len(header))
		}
		m := make(map[string]string, len(f))
		for j, h := range header {
			m[h] = f[j]
		}
		rows = append(rows, row{line: i + 2, fields: m})
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no rows", name)
	}
	return rows
}

func atoi(t testing.TB, r row, field string) int {
	t.Helper()
	v, err := strconv.Atoi(r.fields[field])
	if err != nil {
		t.Fatalf("%v: field %s: %v", r, field, err)
	}
	return v
}

func parseWeights(t testing.TB, r row) []float64 {
	t.Helper()
	s := r.fields["weights"]
	if s == "" {
		return nil
	}
	var w []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("%v: weights: %v", r, err)
		}
		w = append(w, v)
	}
	return w
}

// vectorFunc maps the vector files' function names to hash_func names.
var vectorFunc = map[string]string{
	"ch3":          hash.FuncCh3,
	"crc32":        hash.FuncCrc32,
	"weighted_ch3": hash.FuncWeightedCh3,
}

// primitive computes the index for the exact hash input with the exported
// function (not the selector).
func primitive(fn string, key []byte, n int, weights []float64) int {
	switch fn {
	case hash.FuncCh3:
		return int(hash.Furc(key, uint32(n)))
	case hash.FuncCrc32:
		return int(hash.Crc32(key, uint32(n)))
	case hash.FuncWeightedCh3:
		return int(hash.WeightedCh3(key, weights))
	}
	panic("unknown func " + fn)
}

// TestHashVectors checks every row of testdata/hash.tsv: the key is the
// exact hash input, hashed both by the primitive and by a salt-less Selector.
func TestHashVectors(t *testing.T) {
	t.Parallel()
	rows := readTSV(t, "hash.tsv")
	selectors := map[string]hash.Selector{}
	var failed int
	for _, r := range rows {
		fn, ok := vectorFunc[r.fields["func"]]
		if !ok {
			t.Fatalf("%v: unknown func", r)
		}
		n := atoi(t, r, "n")
		want := atoi(t, r, "index")
		w := parseWeights(t, r)
		if fn == hash.FuncWeightedCh3 && len(w) != n {
			t.Fatalf("%v: %d weights for n=%d", r, len(w), n)
		}
		id := r.fields["func"] + "/" + r.fields["n"] + "/" + r.fields["weights"]
		sel, ok := selectors[id]
		if !ok {
			var err error
			sel, err = hash.New(hash.Spec{Func: fn, Weights: w}, n)
			if err != nil {
				t.Fatalf("%v: New: %v", r, err)
			}
			selectors[id] = sel
		}
		key := []byte(r.fields["key"])
		if got := primitive(fn, key, n, w); got != want {
			t.Errorf("%v: %s(%q, n=%d) = %d, want %d", r, fn, key, n, got, want)
			failed++
		}
		if got := sel.Pick(key); got != want {
			t.Errorf("%v: Selector(%s, n=%d).Pick(%q) = %d, want %d", r, fn, n, key, got, want)
			failed++
		}
		if failed > 20 {
			t.Fatal("too many mismatches")
		}
	}
	t.Logf("%d rows checked", len(rows))
}

// TestRoutingVectors checks every row of testdata/routing.tsv end to end:
// full key → RoutingKey → Selector with salt → index.
func TestRoutingVectors(t *testing.T) {
	t.Parallel()
	rows := readTSV(t, "routing.tsv")
	for _, r := range rows {
		fn, ok := vectorFunc[r.fields["func"]]
		if !ok {
			t.Fatalf("%v: unknown func", r)
		}
		n := atoi(t, r, "n")
		want := atoi(t, r, "index")
		w := parseWeights(t, r)
		salt := r.fields["salt"]
		full := []byte(r.fields["full_key"])

		_, rk := hash.RoutingKey(full)
		if string(rk) != r.fields["routing_key"] {
			t.Errorf("%v: RoutingKey(%q) routing key = %q, want %q", r, full, rk, r.fields["routing_key"])
		}
		if in := string(rk) + salt; in != r.fields["hash_input"] {
			t.Errorf("%v: hash input %q, want %q", r, in, r.fields["hash_input"])
		}
		sel, err := hash.New(hash.Spec{Func: fn, Salt: salt, Weights: w}, n)
		if err != nil {
			t.Fatalf("%v: New: %v", r, err)
		}
		if got := sel.Pick(rk); got != want {
			t.Errorf("%v: Pick = %d, want %d", r, got, want)
		}
		if got := primitive(fn, []byte(r.fields["hash_input"]), n, w); got != want {
			t.Errorf("%v: %s(hash_input) = %d, want %d", r, fn, got, want)
		}
	}
	t.Logf("%d rows checked", len(rows))
}

// TestSpooky32Vectors checks every row of testdata/spooky32.tsv.
func TestSpooky32Vectors(t *testing.T) {
	t.Parallel()
	rows := readTSV(t, "spooky32.tsv")
	for _, r := range rows {
		seed, err := strconv.ParseUint(r.fields["seed"], 10, 32)
		if err != nil {
			t.Fatalf("%v: seed: %v", r, err)
		}
		want, err := strconv.ParseUint(r.fields["spooky_hash32"], 10, 32)
		if err != nil {
			t.Fatalf("%v: spooky_hash32: %v", r, err)
		}
		key := []byte(r.fields["key"])
		if got := hash.Spooky32(key, uint32(seed)); uint64(got) != want {
			t.Errorf("%v: Spooky32(%q (len %d), %d) = %d, want %d", r, key, len(key), seed, got, want)
		}
		// Hash32 and Hash64 are both the first half of Hash128.
		if got := hash.Spooky64(key, seed); uint64(uint32(got)) != want {
			t.Errorf("%v: low half of Spooky64 = %d, want %d", r, uint32(got), want)
		}
	}
	t.Logf("%d rows checked", len(rows))
}
