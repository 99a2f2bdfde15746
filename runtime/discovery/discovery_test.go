package discovery_test

import (
	"context"
	"fmt"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mcroute/mcroute/internal/dnstest"
	"github.com/mcroute/mcroute/runtime/discovery"
	"github.com/mcroute/mcroute/runtime/hash"
	"github.com/mcroute/mcroute/schema"
)

const svc = "mycache-memcached.default.svc.cluster.local"

func config(disc schema.Discovery) *schema.Config {
	return &schema.Config{
		Pools: map[string]*schema.Pool{"A": {Name: "A", Discovery: &disc}},
		Route: &schema.PoolRoute{Pool: "A"},
	}
}

func servers(p *schema.Pool) []string {
	var out []string
	for _, s := range p.Servers {
		if s.Route != nil {
			out = append(out, "-")
		} else {
			out = append(out, s.Addr)
		}
	}
	return out
}

// placement maps keys to servers as PoolRoute hashes them (Ch3, or
// WeightedCh3 when the pool has weights).
func placement(t *testing.T, p *schema.Pool, keys int) map[string]string {
	t.Helper()
	spec := hash.Spec{Func: "Ch3"}
	if p.Weights != nil {
		spec = hash.Spec{Func: "WeightedCh3", Weights: p.Weights}
	}
	sel, err := hash.New(spec, len(p.Servers))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for i := 0; i < keys; i++ {
		k := fmt.Sprintf("user:%d:session", i)
		s := p.Servers[sel.Pick([]byte(k))]
		if s.Route != nil {
			t.Fatalf("key %s hashed to an empty slot", k)
		}
		out[k] = s.Addr
	}
	return out
}

func TestARecordsMembershipChanges(t *testing.T) {
	dns := dnstest.Start(t)
	var mu sync.Mutex
	var changes []string
	d := discovery.New(discovery.Options{Resolver: dns.Resolver(), OnChange: func(pool string, added, removed []string) {
		mu.Lock()
		changes = append(changes, fmt.Sprintf("%s +%v -%v", pool, added, removed))
		mu.Unlock()
	}})
	cfg := config(schema.Discovery{Name: svc, Port: 11211})
	ctx := context.Background()
	refresh := func() *schema.Pool {
		t.Helper()
		if _, err := d.Refresh(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		return d.Apply(cfg).Pools["A"]
	}

	dns.SetHost(svc, "10.0.0.12", "10.0.0.2", "10.0.0.3")
	p := refresh()
	if got, want := servers(p), []string{"10.0.0.2:11211", "10.0.0.3:11211", "10.0.0.12:11211"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("servers %v, want %v (natural order)", got, want)
	}
	if p.Weights != nil {
		t.Errorf("a full pool has no weights: %v", p.Weights)
	}
	before := placement(t, p, 20000)

	// Grow: the new server takes a new slot; only keys moving to it move.
	dns.SetHost(svc, "10.0.0.2", "10.0.0.3", "10.0.0.12", "10.0.0.4")
	p = refresh()
	if got := servers(p); len(got) != 4 || got[3] != "10.0.0.4:11211" {
		t.Fatalf("after growing: %v", got)
	}
	grown := placement(t, p, 20000)
	moved := 0
	for k, s := range grown {
		if s != before[k] {
			moved++
			if s != "10.0.0.4:11211" {
				t.Fatalf("key %s moved from %s to %s, not to the new server", k, before[k], s)
			}
		}
	}
	if f := float64(moved) / 20000; f < 0.2 || f > 0.3 {
		t.Errorf("moved fraction %.3f, want about 1/4", f)
	}

	// Shrink from the middle: the slot stays, empty, with weight 0; only
	// the removed server's keys move.
	dns.SetHost(svc, "10.0.0.2", "10.0.0.12", "10.0.0.4")
	p = refresh()
	if got := servers(p); !reflect.DeepEqual(got, []string{"10.0.0.2:11211", "-", "10.0.0.12:11211", "10.0.0.4:11211"}) {
		t.Fatalf("after shrinking: %v", got)
	}
	if !reflect.DeepEqual(p.Weights, []float64{1, 0, 1, 1}) {
		t.Fatalf("weights %v", p.Weights)
	}
	shrunk := placement(t, p, 20000)
	for k, s := range shrunk {
		if grown[k] != "10.0.0.3:11211" && s != grown[k] {
			t.Fatalf("key %s moved from %s to %s although its server stayed", k, grown[k], s)
		}
	}

	// A new server fills the empty slot.
	dns.SetHost(svc, "10.0.0.2", "10.0.0.12", "10.0.0.4", "10.0.0.9")
	p = refresh()
	if got := servers(p); !reflect.DeepEqual(got, []string{"10.0.0.2:11211", "10.0.0.9:11211", "10.0.0.12:11211", "10.0.0.4:11211"}) {
		t.Fatalf("after refilling: %v", got)
	}
	if p.Weights != nil {
		t.Errorf("a refilled pool has no weights: %v", p.Weights)
	}

	// A failed resolution keeps the servers.
	dns.SetHost(svc)
	if _, err := d.Refresh(ctx, cfg); err == nil {
		t.Log("empty answer resolved without error")
	}
	if got := servers(d.Apply(cfg).Pools["A"]); len(got) == 0 {
		t.Error("servers dropped after a failed resolution")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(changes) < 4 {
		t.Errorf("changes reported: %v", changes)
	}
}

func TestSRVRecords(t *testing.T) {
	dns := dnstest.Start(t)
	name := "_memcache._tcp." + svc
	dns.SetSRV(name,
		net.SRV{Target: "mycache-memcached-1." + svc, Port: 11211},
		net.SRV{Target: "mycache-memcached-0." + svc, Port: 11211},
		net.SRV{Target: "mycache-memcached-10." + svc, Port: 11211},
		net.SRV{Target: "mycache-memcached-2." + svc, Port: 11211},
	)
	d := discovery.New(discovery.Options{Resolver: dns.Resolver()})
	cfg := config(schema.Discovery{Name: name})
	if _, err := d.Refresh(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"mycache-memcached-0." + svc + ":11211",
		"mycache-memcached-1." + svc + ":11211",
		"mycache-memcached-2." + svc + ":11211",
		"mycache-memcached-10." + svc + ":11211",
	}
	if got := servers(d.Apply(cfg).Pools["A"]); !reflect.DeepEqual(got, want) {
		t.Fatalf("servers %v, want %v (pod ordinal order)", got, want)
	}
}

func TestRunCallsUpdateOnChange(t *testing.T) {
	dns := dnstest.Start(t)
	dns.SetHost(svc, "10.0.0.1")
	d := discovery.New(discovery.Options{Resolver: dns.Resolver()})
	cfg := config(schema.Discovery{Name: svc, Port: 11211, IntervalMs: 20})
	if _, err := d.Refresh(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	updates := make(chan *schema.Config, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.Run(ctx, func() *schema.Config { return cfg }, func(c *schema.Config) { updates <- c })
	dns.SetHost(svc, "10.0.0.1", "10.0.0.2")
	select {
	case c := <-updates:
		if got := servers(c.Pools["A"]); len(got) != 2 {
			t.Fatalf("update has %v", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no update after the DNS answer changed")
	}
	if cfg.Pools["A"].Servers != nil {
		t.Error("Apply modified the template config")
	}
}
