package route

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/mcroute/mcroute/internal/golden"
	"github.com/mcroute/mcroute/runtime/mc"
)

// TestGolden runs the conformance scripts in testdata/*.txtar. Each archive
// has a config.json (mcrouter's format) and a script; the output is the
// trace and reply of every request. Script lines:
//
//	option hostid=N | miss-on-errors | invalid-to-default | flush | prefix=/a/b/
//	down|up|miss|hit|tko|timeout SERVER
//	stateful | store SERVER KEY VALUE | now UNIXTIME
//	OP KEY [EXPTIME]          route a request (traced) and print the trace
//	dryrun OP KEY             the same, as __mcrouter__.route does
//	handles OP KEY            print route_handles
//
// Update with MCROUTE_UPDATE=1.
func TestGolden(t *testing.T) {
	golden.Run(t, "testdata", func(t *testing.T, a *golden.Archive) map[string][]byte {
		cfg := parseConfig(t, string(a.MustGet(t, "config.json")))
		f := NewFake()
		clock := newClock(1_000_000)
		opts := Options{Dest: f.Dest, HostID: 1, Now: clock.now, Rand: func(n int) int { return 1 % n },
			Logger: slog.New(slog.DiscardHandler)}
		var g *Graph
		var out strings.Builder
		built := false
		build := func() {
			if built {
				return
			}
			built = true
			var err error
			g, err = Build(cfg, opts)
			if err != nil {
				fmt.Fprintf(&out, "build failed:\n%v\n", err)
				return
			}
			t.Cleanup(g.Close)
			for _, w := range g.Warnings() {
				fmt.Fprintf(&out, "%s\n", w)
			}
		}
		for n, line := range strings.Split(string(a.MustGet(t, "script")), "\n") {
			fields := strings.Fields(line)
			if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
				continue
			}
			arg := func(i int) string {
				if i >= len(fields) {
					t.Fatalf("script line %d: %q: missing argument", n+1, line)
				}
				return fields[i]
			}
			switch fields[0] {
			case "option":
				if built {
					t.Fatalf("script line %d: %q: options must come before the first request", n+1, line)
				}
				k, v, _ := strings.Cut(arg(1), "=")
				switch k {
				case "hostid":
					id, _ := strconv.Atoi(v)
					opts.HostID = uint32(id)
				case "miss-on-errors":
					missOnErrors(&opts)
				case "invalid-to-default":
					opts.SendInvalidRouteToDefault = true
				case "flush":
					opts.EnableFlushCmd = true
				case "prefix":
					opts.DefaultRoutePrefix = v
				default:
					t.Fatalf("script line %d: unknown option %q", n+1, k)
				}
				continue
			case "down", "up":
				f.SetDown(arg(1), fields[0] == "down")
				continue
			case "miss", "hit":
				f.SetMiss(arg(1), fields[0] == "miss")
				continue
			case "tko":
				f.SetTko(arg(1), true)
				continue
			case "timeout":
				f.mu.Lock()
				f.Timeout[arg(1)] = true
				f.mu.Unlock()
				continue
			case "stateful":
				f.Stateful = true
				continue
			case "store":
				f.Store(arg(1), arg(2), arg(3))
				continue
			case "now":
				v, _ := strconv.ParseInt(arg(1), 10, 64)
				clock.set(v)
				continue
			}
			build()
			if g == nil {
				break
			}
			fmt.Fprintf(&out, "\n> %s\n", line)
			dry := fields[0] == "dryrun"
			if fields[0] == "handles" || dry {
				fields = fields[1:]
			}
			op, ok := mc.ParseOp(arg(0))
			if !ok {
				t.Fatalf("script line %d: unknown operation %q", n+1, fields[0])
			}
			r := req(op, arg(1))
			if len(fields) > 2 {
				r.Exptime, _ = strconv.ParseInt(fields[2], 10, 64)
			}
			if strings.HasPrefix(line, "handles") {
				out.WriteString(g.Handles(op, arg(1)))
				continue
			}
			tr := &Trace{DryRun: dry}
			var rep mc.Reply
			g.Route(WithTrace(context.Background(), tr), r, &rep)
			out.WriteString(tr.String())
			fmt.Fprintf(&out, "= %s", rep.Result)
			if len(rep.Value) > 0 {
				fmt.Fprintf(&out, " %q", rep.Value)
			}
			if rep.Message != "" {
				fmt.Fprintf(&out, " (%s)", rep.Message)
			}
			out.WriteByte('\n')
		}
		build()
		return map[string][]byte{"want": []byte(strings.TrimLeft(out.String(), "\n"))}
	})
}
