package compiler_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcroute/mcroute/compiler"
)

// bigPolicy writes a policy of n pools of 10 servers each. With overAll, the
// route hashes over every pool (HashRoute of n PoolRoutes); otherwise it is
// a single PoolRoute.
func bigPolicy(tb testing.TB, n int, overAll bool) string {
	tb.Helper()
	var b strings.Builder
	b.WriteString("package big\n\npools: {\n")
	for i := range n {
		fmt.Fprintf(&b, "\t\"pool%05d\": servers: [", i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "\"10.%d.%d.%d:11211\"", i/256, i%256, j+1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("}\n\n")
	if overAll {
		b.WriteString("route: {type: \"HashRoute\", children: [\n")
		for i := range n {
			fmt.Fprintf(&b, "\t{type: \"PoolRoute\", pool: \"pool%05d\"},\n", i)
		}
		b.WriteString("]}\n")
	} else {
		b.WriteString("route: {type: \"PoolRoute\", pool: \"pool00000\"}\n")
	}
	p := filepath.Join(tb.TempDir(), "policy.cue")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func benchmarkCompile(b *testing.B, path string) {
	b.ReportAllocs()
	for b.Loop() {
		res, err := compiler.Load(context.Background(), path, compiler.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if res.Config == nil {
			b.Fatal("no config")
		}
	}
}

// BenchmarkCompile10kPools compiles a policy of 10,000 pools of 10 servers
// (2.7 MB of CUE) with a HashRoute over all of them (10,001 route nodes).
func BenchmarkCompile10kPools(b *testing.B) {
	benchmarkCompile(b, bigPolicy(b, 10000, true))
}

// BenchmarkCompile10kPoolsOneRoute is BenchmarkCompile10kPools with a
// single PoolRoute: the cost of the pools alone.
func BenchmarkCompile10kPoolsOneRoute(b *testing.B) {
	benchmarkCompile(b, bigPolicy(b, 10000, false))
}

// BenchmarkCompileReplicated compiles the replicated example: the cost of a
// typical small policy (mostly fixed costs).
func BenchmarkCompileReplicated(b *testing.B) {
	benchmarkCompile(b, "../examples/replicated/policy.cue")
}
