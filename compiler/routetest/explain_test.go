package routetest

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcroute/mcroute/compiler"
	"github.com/mcroute/mcroute/runtime/mc"
)

// replicated loads the replicated production example.
func replicated(t *testing.T) *Explainer {
	t.Helper()
	res, err := compiler.Load(context.Background(), "testdata/replicated.json", compiler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x, err := NewExplainer(res.Config, ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Close)
	return x
}

func TestExplain(t *testing.T) {
	x := replicated(t)
	const s1, s2 = "mamcached-server-1:11211", "mamcached-server-2:11211"
	tests := []struct {
		name      string
		req       Request
		wantDests []string
		wantReply string
	}{
		{
			name:      "set reaches both servers",
			req:       Request{Op: mc.OpSet, Key: "user:42"},
			wantDests: []string{"A[0] " + s1, "A[1] " + s2 + " (background)"},
			wantReply: "stored",
		},
		{
			name:      "get reads one replica",
			req:       Request{Op: mc.OpGet, Key: "user:42"},
			wantDests: []string{"A[0] " + s1},
			wantReply: "found",
		},
		{
			name:      "get fails over when server 1 is down",
			req:       Request{Op: mc.OpGet, Key: "user:42", Down: []string{s1}},
			wantDests: []string{"A[0] " + s1, "A[1] " + s2},
			wantReply: "found",
		},
		{
			name:      "get fails over on a miss, server named pool[index]",
			req:       Request{Op: mc.OpGet, Key: "user:42", Miss: []string{"A[0]"}},
			wantDests: []string{"A[0] " + s1, "A[1] " + s2},
			wantReply: "found",
		},
		{
			name:      "both down is an error, not a miss",
			req:       Request{Op: mc.OpGet, Key: "user:42", Down: []string{s1, s2}},
			wantDests: []string{"A[0] " + s1, "A[1] " + s2},
			wantReply: "connect_error",
		},
		{
			name:      "set with server 1 down is stored on server 2",
			req:       Request{Op: mc.OpSet, Key: "user:42", Down: []string{s1}},
			wantDests: []string{"A[0] " + s1, "A[1] " + s2},
			wantReply: "stored",
		},
		{
			name:      "no policy for touch",
			req:       Request{Op: mc.OpTouch, Key: "user:42"},
			wantDests: nil,
			wantReply: "unknown",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := x.Explain(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			var dests []string
			for _, d := range got.Destinations {
				dests = append(dests, d.String())
			}
			if diff := cmp.Diff(tc.wantDests, dests); diff != "" {
				t.Errorf("destinations (-want +got):\n%s", diff)
			}
			if got.Reply != tc.wantReply {
				t.Errorf("reply = %q, want %q", got.Reply, tc.wantReply)
			}
		})
	}
}

func TestExplainFailoverPath(t *testing.T) {
	x := replicated(t)
	got, err := x.Explain(context.Background(), Request{Op: mc.OpGet, Key: "user:42", Down: []string{"mamcached-server-1:11211"}})
	if err != nil {
		t.Fatal(err)
	}
	want := &Explanation{
		Op: "get", Key: "user:42", Down: []string{"mamcached-server-1:11211"}, Miss: []string{},
		Destinations: []Destination{
			{Pool: "A", Index: 0, Server: "mamcached-server-1:11211", Result: "connect_error"},
			{Pool: "A", Index: 1, Server: "mamcached-server-2:11211", Result: "found"},
		},
		Path: []string{
			"RootRoute /././",
			"  OperationSelectorRoute[get]",
			"    RandomRoute → child 0",
			"      MissFailoverRoute → child 0",
			`        A[0] mamcached-server-1:11211 get "user:42" → connect_error`,
			"      MissFailoverRoute child 0 connect_error → child 1",
			`        A[1] mamcached-server-2:11211 get "user:42" → found`,
		},
		Reply: "found",
	}
	if diff := cmp.Diff(want, got, cmpEmptyAsNil); diff != "" {
		t.Errorf("Explain (-want +got):\n%s", diff)
	}
}

var cmpEmptyAsNil = cmp.FilterValues(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())

// RandomRoute is seeded by the key: the same key always takes the same
// child, and keys spread over both children.
func TestExplainRandomIsSeededByKey(t *testing.T) {
	x := replicated(t)
	pick := func(key string) string {
		e, err := x.Explain(context.Background(), Request{Op: mc.OpGet, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		return e.Destinations[0].Pool
	}
	counts := map[string]int{}
	for i := range 200 {
		key := "key:" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		first := pick(key)
		for range 3 {
			if again := pick(key); again != first {
				t.Fatalf("key %q went to %s, then to %s", key, first, again)
			}
		}
		counts[first]++
	}
	if counts["A"] < 60 || counts["B"] < 60 {
		t.Errorf("200 keys over two children: %v, want both well used", counts)
	}
	// A fresh explainer makes the same choices.
	y := replicated(t)
	for _, key := range []string{"user:1", "user:2", "user:42"} {
		a, _ := x.Explain(context.Background(), Request{Op: mc.OpGet, Key: key})
		b, _ := y.Explain(context.Background(), Request{Op: mc.OpGet, Key: key})
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("key %q differs between explainers:\n%s", key, diff)
		}
	}
}

func TestExplainUnknownServer(t *testing.T) {
	x := replicated(t)
	_, err := x.Explain(context.Background(), Request{Op: mc.OpGet, Key: "k", Down: []string{"mamcached-server-3:11211"}})
	var use *UnknownServerError
	if !errors.As(err, &use) {
		t.Fatalf("err = %v, want *UnknownServerError", err)
	}
	if diff := cmp.Diff([]string{"mamcached-server-3:11211"}, use.Names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	var known []string
	for _, s := range use.Known {
		known = append(known, s.String())
	}
	want := []string{
		"A[0] mamcached-server-1:11211", "A[1] mamcached-server-2:11211",
		"B[0] mamcached-server-2:11211", "B[1] mamcached-server-1:11211",
	}
	if diff := cmp.Diff(want, known); diff != "" {
		t.Errorf("known (-want +got):\n%s", diff)
	}
	for _, name := range []string{"mamcached-server-1:11211", "A[1]", "B[0]"} {
		if !x.Known(name) {
			t.Errorf("Known(%q) = false", name)
		}
	}
	if x.Known("A[2]") {
		t.Error(`Known("A[2]") = true`)
	}
}

func TestParseOp(t *testing.T) {
	if op, err := ParseOp("lease-get"); err != nil || op != mc.OpLeaseGet {
		t.Errorf("ParseOp(lease-get) = %v, %v", op, err)
	}
	if _, err := ParseOp("gte"); err == nil {
		t.Error("ParseOp(gte) succeeded")
	}
}
