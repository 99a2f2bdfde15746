package main

import (
	"context"
	"fmt"
	"os"

	"github.com/mcroute/mcroute/compiler"
	"github.com/mcroute/mcroute/compiler/mcrouterjson"
)

type compileCmd struct {
	Policy string            `arg:"" type:"path" help:"A .cue file, a directory holding a CUE package, or an mcrouter JSON config."`
	Out    string            `short:"o" type:"path" placeholder:"FILE" help:"Write the mcrouter JSON to FILE instead of standard output."`
	Params map[string]string `name:"param" placeholder:"NAME=VALUE" help:"JSONM global parameter for mcrouter JSON inputs (repeatable)."`
}

func (c *compileCmd) Run(ctx context.Context, e *env) error {
	res, err := compiler.Load(ctx, c.Policy, compiler.Options{Params: c.Params})
	if err != nil {
		return err
	}
	printDiags(e, res.Diagnostics)
	out, err := mcrouterjson.Marshal(res.Config)
	if err != nil {
		return err
	}
	if c.Out == "" {
		_, err = e.stdout.Write(out)
		return err
	}
	if err := os.WriteFile(c.Out, out, 0o644); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
