package main

import (
	"context"
	"fmt"
	"regexp"

	"github.com/mcroute/mcroute/compiler/routetest"
	"github.com/mcroute/mcroute/internal/diag"
)

type testCmd struct {
	Paths  []string `arg:"" name:"path" help:"Test files (*_test.cue), directories (every *_test.cue in them) or DIR/... (every *_test.cue below DIR)."`
	Format string   `enum:"text,json,junit" default:"text" help:"Report format: text, json or junit (JUnit XML for CI)."`
	Update bool     `help:"Rewrite the expectations (want) of failing cases, and of cases that have none, from what actually happens; the rest of each file is kept as written."`
	Match  string   `name:"run" placeholder:"REGEXP" help:"Run only the cases whose name matches REGEXP."`
}

// Help is shown by mcroute test --help.
func (c *testCmd) Help() string {
	return `Test runs golden route tests: each case of a test file routes one request
through the policy in a simulated world (as mcroute explain does) and checks
the servers reached, the reply and, optionally, the route path. A test file is
a CUE file named NAME_test.cue, usually next to the policy:

    config: "policy.cue"    // default: the test file's directory
    cases: get_fails_over: {
        op:   "get"
        key:  "user:42"
        down: ["mamcached-server-1:11211"]
        want: {
            destinations: ["A[0] mamcached-server-1:11211", "A[1] mamcached-server-2:11211"]
            reply: "found"
        }
    }

Exit status: 0 when every case passes (or was updated), 1 when a case fails or
a test file or its policy has errors, 2 on usage errors.`
}

// Validate checks --run.
func (c *testCmd) Validate() error {
	if _, err := regexp.Compile(c.Match); err != nil {
		return fmt.Errorf("--run: %w", err)
	}
	return nil
}

// Run runs the test files and prints the report.
func (c *testCmd) Run(ctx context.Context, e *env) error {
	opts := routetest.Options{Update: c.Update}
	if c.Match != "" {
		opts.Match = regexp.MustCompile(c.Match)
	}
	rep, err := routetest.Run(ctx, c.Paths, opts)
	if err != nil {
		return err
	}
	rep.Relative(e.dir)
	switch c.Format {
	case "json":
		err = rep.WriteJSON(e.stdout)
	case "junit":
		err = rep.WriteJUnit(e.stdout)
	default:
		err = rep.WriteText(e.stdout)
	}
	if err != nil {
		return err
	}
	if c.Format != "text" {
		// The report is for machines; tell the person too.
		var all diag.List
		for _, f := range rep.Files {
			all = append(all, f.Diagnostics...)
		}
		printDiags(e, all)
	}
	if !rep.Summary.OK() {
		return exitError(exitFindings)
	}
	return nil
}
