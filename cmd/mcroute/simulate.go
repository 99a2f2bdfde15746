package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mcroute/mcroute/compiler"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/runtime/sim"
	"github.com/mcroute/mcroute/schema"
)

// Exit codes of an interrupted simulation: the shell's 128+signal.
const (
	exitInterrupted = 130 // SIGINT (Ctrl-C)
	exitTerminated  = 143 // SIGTERM
)

type simulateCmd struct {
	Config      string            `required:"" type:"path" placeholder:"FILE" help:"The policy: a .cue file, a directory holding a CUE package, or an mcrouter JSON config."`
	Keys        keyCount          `placeholder:"N" help:"Number of keys to generate from --key-pattern (default 1M; suffixes k, M, G: --keys 100M)."`
	KeysFrom    string            `name:"keys-from" placeholder:"FILE" help:"Read the keys from FILE instead, one per line ('-' for standard input); streamed, blank lines skipped."`
	KeyPattern  string            `name:"key-pattern" placeholder:"PATTERN" help:"Pattern of the generated keys: {n} is the key number, {n:W} the number zero-padded to W digits, {rand} 16 hex digits that depend on the number and --seed, {{ and }} literal braces (default 'key:{n}')."`
	Op          string            `placeholder:"OP" default:"set" help:"Operation routed for every key, as mcrouter names it (default set: where keys are stored; get shows where reads go)."`
	Seed        uint64            `placeholder:"N" help:"Seed of {rand} and of RandomRoute's choices (default 0)."`
	Compare     string            `type:"path" placeholder:"FILE2" help:"Also route every key through FILE2 and report the keys that move (e.g. FILE2 adds or removes a server)."`
	Down        []string          `placeholder:"SERVER" sep:"none" help:"Simulate SERVER failing: an address as written, host:port, or pool[index] (repeatable); shows where its keys go."`
	DownResult  string            `name:"down-result" enum:"tko,connect_error,timeout" default:"tko" help:"What a --down server answers: ${enum} (default tko, mcrouter's answer for a server marked down)."`
	Format      string            `short:"f" enum:"text,json" default:"text" help:"Output format: text or json."`
	Plot        string            `type:"path" placeholder:"OUT.svg|OUT.png" help:"Also draw a bar chart of the shares (and moves) to OUT.svg or OUT.png."`
	Workers     int               `placeholder:"N" help:"Worker goroutines (default: one per CPU)."`
	HostID      uint32            `name:"host-id" placeholder:"N" help:"Host id for LatestRoute, HostIdRoute and KeySplitRoute (default 1)."`
	Params      map[string]string `name:"param" placeholder:"NAME=VALUE" help:"Policy parameter (CUE @tag, JSONM param) (repeatable)."`
	RoutePrefix string            `name:"route-prefix" short:"R" default:"/././" help:"Default routing prefix (mcrouter's -R)."`
}

// Help is shown by mcroute simulate --help.
func (c *simulateCmd) Help() string {
	return `Simulate routes many keys through the policy's route graph, over simulated
servers, and reports how they spread: per server, the keys it holds, its share
of the keys, the share a perfect hash would give it (its pool's keys split
evenly, or by weight for pools hashed with WeightedCh3) and the deviation;
the max/mean ratio; how many servers each key is stored on; and, per pool,
how many of its servers hold each key ("pool A (2 servers): every key is
stored on both servers"). Hashing is mcrouter's, bit for bit (runtime/hash),
so the numbers are those of mcrouter.

A key is stored on every server its request reaches and that answers it: a
replicated route (AllFastestRoute|Pool|A) stores each key on several servers,
so shares then sum to more than 100% (the replication factor). The default
operation is set, because where keys are stored is what sets reach; reads can
reach other servers (replicas, random choices, failover): --op get shows
them (healthy servers answer every get with a hit).

--compare FILE2 routes each key through both configs in the same pass and
reports the keys that change servers, per server pair, against the ideal
minimum (1/(n+1) of the keys when a consistent hash grows from n to n+1
servers, taken evenly from the n), and flags keys that move between two
servers present in both configs; --format json has the share of keys that
moved as moved_fraction. --down SERVER routes each key with and without the server failing and
shows where its keys go under the configured failover.

Keys are generated on the fly (or streamed from --keys-from), never held in
memory, on all cores. Results are deterministic for a given config, keys and
seed. On a terminal, runs longer than a second show a progress bar on standard
error. Ctrl-C stops the workers and prints the partial result, marked partial.

Exit codes: 0 success; 1 config errors; 2 usage, key or I/O errors; 130 when
interrupted by SIGINT (143 by SIGTERM), after printing the partial result.`
}

// Validate checks what kong cannot.
func (c *simulateCmd) Validate() error {
	if c.KeysFrom != "" && (c.Keys != 0 || c.KeyPattern != "") {
		return errors.New("--keys-from cannot be combined with --keys or --key-pattern")
	}
	if c.Compare != "" && len(c.Down) > 0 {
		return errors.New("--compare and --down cannot be combined")
	}
	if _, err := c.op(); err != nil {
		return err
	}
	if c.Plot != "" {
		if ext := strings.ToLower(filepath.Ext(c.Plot)); ext != ".svg" && ext != ".png" {
			return fmt.Errorf("--plot %s: the file name must end in .svg or .png", c.Plot)
		}
	}
	if c.KeyPattern != "" {
		if _, err := sim.ParsePattern(c.KeyPattern); err != nil {
			return fmt.Errorf("--key-pattern: %s", strings.TrimPrefix(err.Error(), "sim: "))
		}
	}
	if c.Workers < 0 {
		return errors.New("--workers must not be negative")
	}
	return nil
}

func (c *simulateCmd) op() (mc.Op, error) {
	op, ok := mc.ParseOp(c.Op)
	if !ok || op == mc.OpFlushAll || op == mc.OpFlushRe {
		return 0, fmt.Errorf("--op %q: not an operation with a key (get, gets, set, add, replace, append, prepend, cas, delete, incr, decr, touch, gat, gats, metaget, lease-get, lease-set)", c.Op)
	}
	return op, nil
}

// Run loads the configs, simulates and writes the report (and the plot).
func (c *simulateCmd) Run(ctx context.Context, e *env) error {
	op, _ := c.op()
	downRes, _ := mc.ParseResult(c.DownResult)
	opts := sim.Options{Op: op, Keys: int64(c.Keys), Pattern: c.KeyPattern, Seed: c.Seed, Down: c.Down,
		DownResult: downRes, Workers: c.Workers, HostID: c.HostID, RoutePrefix: c.RoutePrefix, Progress: &sim.Progress{}}
	var err error
	if opts.Config, err = c.load(ctx, e, c.Config); err != nil {
		return err
	}
	opts.Name = relPath(e, c.Config)
	if c.Compare != "" {
		if opts.Compare, err = c.load(ctx, e, c.Compare); err != nil {
			return err
		}
		opts.CompareName = relPath(e, c.Compare)
	}
	var inputSize int64
	if c.KeysFrom != "" {
		opts.KeysFrom, opts.KeysFromName = e.stdin, "standard input"
		if c.KeysFrom != "-" {
			f, err := os.Open(c.KeysFrom)
			if err != nil {
				fmt.Fprintln(e.stderr, "mcroute simulate: --keys-from:", err)
				return exitError(exitUsage)
			}
			defer f.Close()
			if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
				inputSize = fi.Size()
			}
			opts.KeysFrom, opts.KeysFromName = bufio.NewReaderSize(f, 1<<20), relPath(e, c.KeysFrom)
		}
	}
	stop := startProgress(e, opts.Progress, c.total(), inputSize, progressDelay)
	res, err := sim.Run(ctx, opts)
	stop()
	if err != nil && res == nil {
		var l diag.List
		if errors.As(err, &l) {
			return err
		}
		fmt.Fprintln(e.stderr, "mcroute simulate:", strings.TrimPrefix(err.Error(), "sim: "))
		return exitError(exitUsage)
	}
	printDiags(e, res.Warnings)
	if err := c.write(e, res); err != nil {
		return err
	}
	if res.Partial {
		fmt.Fprintf(e.stderr, "mcroute simulate: interrupted after %d keys: the result is partial\n", res.Keys)
		if cause := context.Cause(ctx); cause != nil && strings.Contains(cause.Error(), "terminated") {
			return exitError(exitTerminated)
		}
		return exitError(exitInterrupted)
	}
	return nil
}

// total is the number of keys to simulate, or 0 when read from a file.
func (c *simulateCmd) total() int64 {
	switch {
	case c.KeysFrom != "":
		return 0
	case c.Keys == 0:
		return sim.DefaultKeys
	}
	return int64(c.Keys)
}

func (c *simulateCmd) load(ctx context.Context, e *env, path string) (*schema.Config, error) {
	res, err := compiler.Load(ctx, path, compiler.Options{Params: c.Params, RoutePrefix: c.RoutePrefix, HostID: cmp.Or(c.HostID, 1)})
	if err != nil {
		return nil, err
	}
	printDiags(e, res.Diagnostics)
	return res.Config, nil
}

// write prints the report and draws the plot.
func (c *simulateCmd) write(e *env, res *sim.Result) error {
	w := bufio.NewWriter(e.stdout)
	var err error
	if c.Format == "json" {
		err = sim.WriteJSON(w, res)
	} else {
		err = sim.WriteText(w, res)
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil || c.Plot == "" {
		return err
	}
	f, err := os.Create(c.Plot)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		fmt.Fprintf(e.stderr, "mcroute simulate: --plot %s: %v\n", relPath(e, c.Plot), err)
		return exitError(exitUsage)
	}
	bw := bufio.NewWriter(f)
	if strings.EqualFold(filepath.Ext(c.Plot), ".png") {
		err = sim.WritePNG(bw, res)
	} else {
		err = sim.WriteSVG(bw, res)
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("--plot: %w", err)
	}
	return nil
}

// progressDelay is how long a run goes before the progress bar appears.
const progressDelay = time.Second

// startProgress draws a progress bar on standard error while the
// simulation runs, from delay on, if standard error is a terminal.
// total is the number of keys (0 if unknown); size is the size of the key
// file, to estimate the total from the bytes read. The returned function
// stops it and erases the bar.
func startProgress(e *env, p *sim.Progress, total, size int64, delay time.Duration) func() {
	f, ok := e.stderr.(*os.File)
	if !ok || !isTerminal(f) {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		select {
		case <-done:
			return
		case <-time.After(delay):
		}
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			keys, est := p.Keys(), total
			if est == 0 && size > 0 {
				if b := p.Bytes(); b > 0 {
					est = int64(math.Round(float64(keys) * float64(size) / float64(b)))
				}
			}
			fmt.Fprint(f, "\r"+sim.Bar(keys, est, time.Since(start), terminalWidth(f)-1)+"\x1b[K")
			select {
			case <-done:
				fmt.Fprint(f, "\r\x1b[K")
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func terminalWidth(f *os.File) int {
	if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
		return int(ws.Col)
	}
	return 80
}

// keyCount is a number of keys: digits with an optional k, M or G suffix
// (10^3, 10^6, 10^9), or a decimal exponent form such as 1e6; underscores
// are allowed ("1_000_000").
type keyCount int64

// UnmarshalText parses a key count.
func (k *keyCount) UnmarshalText(b []byte) error {
	s := strings.ReplaceAll(string(b), "_", "")
	mult := 1.0
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult, s = 1e3, s[:n-1]
		case 'm', 'M':
			mult, s = 1e6, s[:n-1]
		case 'g', 'G':
			mult, s = 1e9, s[:n-1]
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v*mult < 1 || v*mult > 1e15 || v*mult != math.Trunc(v*mult) {
		return fmt.Errorf("%q is not a number of keys (e.g. 1000, 250k, 100M, 1e6)", string(b))
	}
	*k = keyCount(v * mult)
	return nil
}
