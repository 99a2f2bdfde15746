package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mcroute/mcroute/compiler"
	"github.com/mcroute/mcroute/compiler/routetest"
	"github.com/mcroute/mcroute/internal/diag"
)

type explainCmd struct {
	Config      string            `required:"" type:"path" placeholder:"FILE" help:"The policy: a .cue file, a directory holding a CUE package, or an mcrouter JSON config."`
	Format      string            `enum:"text,json" default:"text" help:"Output format: text, or json (one object per request and line)."`
	KeysFrom    string            `name:"keys-from" placeholder:"FILE" help:"Read more keys from FILE, one per line ('-' for standard input); blank lines are skipped."`
	Down        []string          `placeholder:"SERVER" sep:"none" help:"Explain as if SERVER were failing (connect_error): an address as written, host:port, or pool[index] (repeatable)."`
	Miss        []string          `placeholder:"SERVER" sep:"none" help:"Explain as if SERVER did not hold the key (get-like requests and deletes miss) (repeatable)."`
	HostID      uint32            `name:"host-id" placeholder:"N" help:"Host id for LatestRoute, HostIdRoute and KeySplitRoute (default 1; serve uses a hash of the host name)."`
	Params      map[string]string `name:"param" placeholder:"NAME=VALUE" help:"Policy parameter (CUE @tag, JSONM param) (repeatable)."`
	RoutePrefix string            `name:"route-prefix" short:"R" default:"/././" help:"Default routing prefix (mcrouter's -R)."`
	Handles     bool              `help:"Also show mcrouter's route_handles(op,key): every handle the request could traverse."`

	Op   string   `arg:"" help:"The operation, as mcrouter names it: get, gets, set, add, replace, append, prepend, cas, delete, incr, decr, touch, gat, gats, metaget, lease-get, lease-set, flushall, flushre."`
	Keys []string `arg:"" optional:"" help:"Keys to route (with any /region/cluster/ routing prefix)."`
}

// Help is shown by mcroute explain --help.
func (c *explainCmd) Help() string {
	return `Explain is a dry run: for each key it shows the route path a request takes
and every server it reaches (pool[index] host:port, in order), with each
server's answer and the reply, like mcrouter's __mcrouter__.route(op,key) and
route_handles. Nothing is sent: every server is simulated, healthy and holding
every key, except those given with --down and --miss.

Output is deterministic: background work (AllAsyncRoute, the rest of
AllFastestRoute, shadows, warm-up fills) is shown inline, marked background,
and RandomRoute's choice is seeded by the key (a PCG generator seeded with the
FNV-1a hash of the key), so a key always takes the same random child.`
}

// Validate checks the arguments kong cannot.
func (c *explainCmd) Validate() error {
	if _, err := routetest.ParseOp(c.Op); err != nil {
		return err
	}
	if len(c.Keys) == 0 && c.KeysFrom == "" {
		return errors.New("give at least one KEY, or --keys-from FILE")
	}
	return nil
}

// Run loads the config, builds its graph over simulated servers and
// explains each key.
func (c *explainCmd) Run(ctx context.Context, e *env) error {
	op, _ := routetest.ParseOp(c.Op)
	keys, err := c.keys(e)
	if err != nil {
		return err
	}
	res, err := compiler.Load(ctx, c.Config, compiler.Options{Params: c.Params, RoutePrefix: c.RoutePrefix,
		HostID: cmp.Or(c.HostID, routetest.DefaultHostID)})
	if err != nil {
		return err
	}
	printDiags(e, res.Diagnostics)
	x, err := routetest.NewExplainer(res.Config, routetest.ExplainOptions{HostID: c.HostID, RoutePrefix: c.RoutePrefix})
	if err != nil {
		var l diag.List
		if errors.As(err, &l) {
			return append(res.Diagnostics, l...)
		}
		return err
	}
	defer x.Close()
	if err := x.CheckServers("--down", c.Down); err != nil {
		return err
	}
	if err := x.CheckServers("--miss", c.Miss); err != nil {
		return err
	}
	w := bufio.NewWriter(e.stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i, key := range keys {
		ex, err := x.Explain(ctx, routetest.Request{Op: op, Key: key, Down: c.Down, Miss: c.Miss})
		if err != nil {
			return err
		}
		if c.Handles {
			ex.Handles = x.Handles(op, key)
		}
		if c.Format == "json" {
			if err := enc.Encode(ex); err != nil {
				return err
			}
			continue
		}
		if i > 0 {
			w.WriteString("\n")
		}
		writeExplanation(w, ex)
	}
	return w.Flush()
}

// keys returns the keys of the arguments, then those of --keys-from.
func (c *explainCmd) keys(e *env) ([]string, error) {
	keys := append([]string(nil), c.Keys...)
	if c.KeysFrom == "" {
		return keys, nil
	}
	var r io.Reader = e.stdin
	if c.KeysFrom != "-" {
		f, err := os.Open(c.KeysFrom)
		if err != nil {
			return nil, fmt.Errorf("--keys-from: %w", err)
		}
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		if k := strings.TrimRight(sc.Text(), "\r"); strings.TrimSpace(k) != "" {
			keys = append(keys, k)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--keys-from: %w", err)
	}
	if len(keys) == 0 {
		return nil, errors.New("--keys-from: no keys")
	}
	return keys, nil
}

// writeExplanation prints one request for a person: the request, the
// indented path, the destinations and the reply.
func writeExplanation(w io.StringWriter, ex *routetest.Explanation) {
	head := ex.Op + " " + ex.Key
	if len(ex.Down) > 0 {
		head += "  down: " + strings.Join(ex.Down, ", ")
	}
	if len(ex.Miss) > 0 {
		head += "  miss: " + strings.Join(ex.Miss, ", ")
	}
	w.WriteString(head + "\n  path:\n")
	for _, l := range ex.Path {
		w.WriteString("    " + l + "\n")
	}
	if len(ex.Destinations) == 0 {
		w.WriteString("  destinations: none\n")
	} else {
		w.WriteString("  destinations:\n")
	}
	for _, d := range ex.Destinations {
		line := "    " + d.Pool + "[" + fmt.Sprint(d.Index) + "] " + d.Server
		if d.Op != "" {
			line += " " + d.Op
		}
		if d.Key != "" {
			line += " " + d.Key
		}
		if d.Background {
			line += " (background)"
		}
		w.WriteString(line + " (" + d.Result + ")\n")
	}
	reply := "  reply: " + ex.Reply
	if ex.Message != "" {
		reply += " " + fmt.Sprintf("%q", ex.Message)
	}
	w.WriteString(reply + "\n")
	if len(ex.Handles) > 0 {
		w.WriteString("  handles:\n")
		for _, l := range ex.Handles {
			w.WriteString("    " + l + "\n")
		}
	}
}
