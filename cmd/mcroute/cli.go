package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/schema"
)

// Exit codes, as documented in README.md.
const (
	exitOK       = 0 // success
	exitFindings = 1 // the config or the tests have problems
	exitUsage    = 2 // usage, I/O or internal error
)

// cli is the root of the command line. Each command lives in its own file
// with its flags and Run method.
type cli struct {
	Compile  compileCmd  `cmd:"" help:"Compile a CUE policy (or mcrouter JSON) to mcrouter JSON."`
	Validate validateCmd `cmd:"" help:"Compile a policy and build its route graph, without serving."`
	Lint     lintCmd     `cmd:"" help:"Check CUE policies and mcrouter JSON configs for routing mistakes (--explain lists the rules)."`
	Import   importCmd   `cmd:"" help:"Write an mcrouter JSON config as a CUE policy that compiles to the same route graph."`
	Explain  explainCmd  `cmd:"" help:"Dry run: show the route path and the servers a request reaches (--down/--miss simulate failures)."`
	Test     testCmd     `cmd:"" help:"Run golden route tests (*_test.cue files next to a policy); --update rewrites expectations."`
	Simulate simulateCmd `cmd:"" help:"Simulate key distribution: keys per server, replication, keys moved by a config change (--compare) or a failing server (--down)."`
	Serve    serveCmd    `cmd:"" help:"Run the memcached proxy: route clients' requests through the policy to real memcached pools."`
	Version  versionCmd  `cmd:"" help:"Print version information."`
}

// env carries process I/O into Run methods, so tests never touch os.Std*.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// dir is the working directory used to shorten file names in
	// diagnostics.
	dir string
}

// exitError makes a command exit with code after it has printed its own
// output.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

const description = `mcroute compiles, checks, explains, simulates and serves memcached routing
policies. A policy is a CUE package (a .cue file or a directory) or an mcrouter
JSON config; every command that takes a config accepts either.

Exit codes: 0 success, 1 findings (config errors, failed tests), 2 usage or
internal error.`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	wd, _ := os.Getwd()
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, dir: wd}

	var c cli
	exit := -1
	parser, err := kong.New(&c,
		kong.Name("mcroute"),
		kong.Description(description),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exit = code }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.UsageOnError(),
		kong.Bind(e),
		kong.BindTo(ctx, (*context.Context)(nil)),
	)
	if err != nil {
		fmt.Fprintln(stderr, "mcroute:", err)
		return exitUsage
	}
	kctx, err := parser.Parse(args)
	if exit >= 0 {
		// --help and friends exit through kong.Exit with 0.
		return exit
	}
	if err != nil {
		fmt.Fprintln(stderr, "mcroute:", err)
		var pe *kong.ParseError
		if errors.As(err, &pe) {
			_ = pe.Context.PrintUsage(true)
		}
		return exitUsage
	}
	if err := kctx.Run(); err != nil {
		return report(e, err)
	}
	return exitOK
}

// report prints err (unless the command already did) and returns the exit
// code: diagnostics mean findings; anything else is an internal or I/O
// error.
func report(e *env, err error) int {
	var code exitError
	if errors.As(err, &code) {
		return int(code)
	}
	var l diag.List
	if errors.As(err, &l) {
		printDiags(e, l)
		return exitFindings
	}
	fmt.Fprintln(e.stderr, "mcroute:", err)
	return exitUsage
}

// printDiags writes diagnostics one per line to stderr, with file names
// relative to the working directory, followed by a count.
func printDiags(e *env, l diag.List) {
	l = append(diag.List(nil), l...)
	l.Relative(e.dir)
	l.Sort()
	var errs, warns int
	for _, d := range l {
		fmt.Fprintln(e.stderr, d.String())
		switch d.Severity {
		case diag.Error:
			errs++
		case diag.Warning:
			warns++
		}
	}
	if errs > 0 {
		fmt.Fprintf(e.stderr, "%d error(s), %d warning(s)\n", errs, warns)
	}
}

// relPath shortens path relative to the working directory when it is
// inside it.
func relPath(e *env, path string) string {
	l := diag.List{{Pos: schema.Pos{File: path}}}
	l.Relative(e.dir)
	return l[0].Pos.File
}
