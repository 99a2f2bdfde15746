package proxy_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mcroute/mcroute/internal/golden"
	"github.com/mcroute/mcroute/internal/memcachedtest"
	"github.com/mcroute/mcroute/runtime/proxy"
	"github.com/mcroute/mcroute/runtime/upstream"
)

// TestConformance runs the request scripts of testdata/conformance/*.txtar
// through the proxy, serving an example's mcrouter.json with each of its
// servers replaced by a real memcached, and checks the exact replies
// (section want/replies) and, once the proxy has finished every request
// (including the background halves of AllFastestRoute and WarmUpRoute),
// which of the keys the script names each server holds (section
// want/landed). Pool timeouts are raised to 5 s so that results do not
// depend on the machine's load. Server addresses in
// replies are mapped back to the example's names, so the golden files do
// not depend on ports. MCROUTE_UPDATE=1 rewrites the want sections.
//
// Script lines (section script):
//   - a memcached command, sent to the proxy; the data line of a storage
//     command (set, add, replace, append, prepend, cas, ms) follows it;
//   - "@SERVER command": the command sent directly to the memcached that
//     stands for the example's SERVER (to prepare data);
//   - "!kill SERVER": that memcached is killed (SIGKILL);
//   - "#" comments and blank lines are ignored.
func TestConformance(t *testing.T) {
	memcachedtest.Require(t)
	golden.Run(t, filepath.Join("..", "..", "testdata", "conformance"), func(t *testing.T, a *golden.Archive) map[string][]byte {
		example := strings.TrimSpace(string(a.MustGet(t, "example")))
		text, err := os.ReadFile(filepath.Join("..", "..", "examples", example, "mcrouter.json"))
		if err != nil {
			t.Fatal(err)
		}
		cs := newConformanceSetup(t, text)
		return cs.run(t, string(a.MustGet(t, "script")))
	})
}

// conformanceSetup is an example served in front of one memcached per
// server of the example.
type conformanceSetup struct {
	proxy   *proxy.Server
	addr    string
	names   []string                         // the example's server addresses, sorted
	mc      map[string]*memcachedtest.Server // by example name
	pools   map[string][]string              // example name → "pool[i]"
	real2ex *strings.Replacer
}

func newConformanceSetup(t *testing.T, text []byte) *conformanceSetup {
	cfg := decode(t, string(text))
	cs := &conformanceSetup{mc: map[string]*memcachedtest.Server{}, pools: map[string][]string{}}
	var poolNames []string
	for name := range cfg.Pools {
		poolNames = append(poolNames, name)
	}
	sort.Strings(poolNames)
	for _, pn := range poolNames {
		for i, s := range cfg.Pools[pn].Servers {
			if _, ok := cs.mc[s.Addr]; !ok {
				cs.mc[s.Addr] = nil
				cs.names = append(cs.names, s.Addr)
			}
			cs.pools[s.Addr] = append(cs.pools[s.Addr], fmt.Sprintf("%s[%d]", pn, i))
		}
	}
	sort.Strings(cs.names)
	served := string(text)
	var back []string
	for _, name := range cs.names {
		m := memcachedtest.Start(t)
		cs.mc[name] = m
		// Replace whole JSON strings only: 10.1.0.1:11211 must not
		// match inside 10.1.0.11:11211.
		served = strings.ReplaceAll(served, `"`+name+`"`, `"`+m.Addr+`"`)
		back = append(back, m.Addr, name)
	}
	cs.real2ex = strings.NewReplacer(back...)
	// The examples' timeouts (down to 50 ms) are for production networks;
	// on a busy test machine they would make failover depend on timing.
	// The cases check routing, so every timeout becomes 5 s.
	served = timeoutField.ReplaceAllString(served, `"${1}_timeout": 5000`)
	cs.proxy = proxy.New(proxy.Options{Upstream: upstream.Options{ProbeInitial: time.Hour}})
	if err := cs.proxy.SetConfig(decode(t, served), proxy.ConfigInfo{Path: "mcrouter.json", Text: []byte(served)}); err != nil {
		t.Fatal(err)
	}
	ln, err := proxy.Listen("127.0.0.1:0", 0)
	if err != nil {
		t.Fatal(err)
	}
	cs.addr = ln.Addr().String()
	go cs.proxy.Serve(ln)
	t.Cleanup(func() { cs.proxy.Close() })
	return cs
}

// timeoutField matches the timeout fields of an mcrouter pool.
var timeoutField = regexp.MustCompile(`"(server|connect)_timeout":\s*\d+`)

// storageCmd matches the commands followed by a data line.
var storageCmd = regexp.MustCompile(`^(set|add|replace|append|prepend|cas|ms) `)

func (cs *conformanceSetup) run(t *testing.T, script string) map[string][]byte {
	c := dial(t, "tcp", cs.addr)
	var replies strings.Builder
	var keys []string
	seen := map[string]bool{}
	lines := strings.Split(strings.TrimRight(script, "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if name, ok := strings.CutPrefix(line, "!kill "); ok {
			cs.server(t, name).Kill()
			fmt.Fprintf(&replies, "%s\n", line)
			continue
		}
		direct := ""
		if strings.HasPrefix(line, "@") {
			direct, line, _ = strings.Cut(line[1:], " ")
		}
		for _, k := range scriptKeys(line) {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
		send := line + "\r\n"
		shown := "> " + line + "\n"
		if storageCmd.MatchString(line) && i+1 < len(lines) {
			i++
			send += lines[i] + "\r\n"
			shown += "> " + lines[i] + "\n"
		}
		if direct != "" {
			out := cs.server(t, direct).Do(send+"mn\r\n", "MN")
			fmt.Fprintf(&replies, "@%s\n%s%s", direct, shown, strings.TrimSuffix(strings.ReplaceAll(out, "\r\n", "\n"), "MN\n"))
			continue
		}
		replies.WriteString(shown)
		// mn (answered by the proxy itself, after every earlier
		// request) marks the end of the reply, whatever it is.
		c.send(send + "mn\r\n")
		marks := 1
		if line == "mn" {
			marks = 2
		}
		for marks > 0 {
			l := c.line()
			if l == "MN" {
				if marks--; marks == 0 {
					break
				}
			}
			replies.WriteString(cs.real2ex.Replace(l) + "\n")
		}
	}
	// Let every request finish, background ones included, before looking
	// at the servers.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cs.proxy.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	sort.Strings(keys)
	return map[string][]byte{
		"want/replies": []byte(replies.String()),
		"want/landed":  []byte(cs.landed(t, keys)),
	}
}

func (cs *conformanceSetup) server(t *testing.T, name string) *memcachedtest.Server {
	m := cs.mc[name]
	if m == nil {
		t.Fatalf("script names %q, which is not a server of the example (%v)", name, cs.names)
	}
	return m
}

// landed lists, for every server of the example, which of the keys the
// script names it holds, with their flags and values.
func (cs *conformanceSetup) landed(t *testing.T, keys []string) string {
	var b strings.Builder
	for _, name := range cs.names {
		fmt.Fprintf(&b, "%s (%s):", name, strings.Join(cs.pools[name], " "))
		m := cs.mc[name]
		if c, err := net.DialTimeout("tcp", m.Addr, time.Second); err != nil {
			b.WriteString(" killed\n")
			continue
		} else {
			c.Close()
		}
		var held []string
		for _, k := range keys {
			out := m.Do("get "+k+"\r\n", "END")
			ls := strings.Split(out, "\r\n")
			if len(ls) < 3 || !strings.HasPrefix(ls[0], "VALUE ") {
				continue
			}
			f := strings.Fields(ls[0])
			held = append(held, fmt.Sprintf("  %s flags=%s %q\n", k, f[2], ls[1]))
		}
		if len(held) == 0 {
			b.WriteString(" -\n")
			continue
		}
		b.WriteString("\n" + strings.Join(held, ""))
	}
	return b.String()
}

// scriptKeys returns the keys a command names, without routing prefix
// (/region/cluster/) and without admin keys.
func scriptKeys(line string) []string {
	f := strings.Fields(line)
	if len(f) < 2 {
		return nil
	}
	var ks []string
	switch f[0] {
	case "get", "gets":
		ks = f[1:]
	case "gat", "gats":
		ks = f[2:]
	case "set", "add", "replace", "append", "prepend", "cas", "delete", "incr", "decr", "touch", "mg", "ms", "md", "ma":
		ks = f[1:2]
	}
	var out []string
	for _, k := range ks {
		if strings.HasPrefix(k, "__mcrouter__.") {
			continue
		}
		if strings.HasPrefix(k, "/") {
			if parts := strings.SplitN(k, "/", 4); len(parts) == 4 {
				k = parts[3]
			}
		}
		out = append(out, k)
	}
	return out
}
