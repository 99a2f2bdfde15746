package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mcroute/mcroute/compiler"
	"github.com/mcroute/mcroute/compiler/importer"
	"github.com/mcroute/mcroute/internal/diag"
)

type importCmd struct {
	Config  string            `arg:"" type:"path" help:"An mcrouter JSON config (JSONC, JSONM macros and @import are read as mcrouter reads them)."`
	Out     string            `short:"o" type:"path" placeholder:"FILE" help:"Write the CUE policy to FILE instead of standard output."`
	Params  map[string]string `name:"param" placeholder:"NAME=VALUE" help:"JSONM global parameter (repeatable), as mcrouter's --config-params."`
	Package string            `default:"policy" help:"Package name of the policy."`
}

// Run reads an mcrouter JSON config and writes it as a CUE policy that
// compiles to the same route graph. What the policy language cannot express
// is reported at its position in the config (exit 1); options mcrouter
// ignores are left out with a warning.
func (c *importCmd) Run(ctx context.Context, e *env) error {
	if fi, err := os.Stat(c.Config); err == nil && (fi.IsDir() || filepath.Ext(c.Config) == ".cue") {
		return fmt.Errorf("import reads an mcrouter JSON config; %s is a CUE policy already", relPath(e, c.Config))
	}
	res, err := compiler.Load(ctx, c.Config, compiler.Options{Params: c.Params})
	if err != nil {
		return err
	}
	imp, err := importer.Import(res.Config, importer.Options{Source: relPath(e, c.Config), Package: c.Package, Params: c.Params})
	var l diag.List
	if errors.As(err, &l) {
		return append(res.Diagnostics, imp.Diagnostics...)
	}
	if err != nil {
		return err
	}
	printDiags(e, append(res.Diagnostics, imp.Diagnostics...))
	if c.Out == "" {
		_, err = e.stdout.Write(imp.CUE)
		return err
	}
	if err := os.WriteFile(c.Out, imp.CUE, 0o644); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
