package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/mcroute/mcroute/compiler"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/runtime/route"
)

type validateCmd struct {
	Policy      string            `arg:"" type:"path" help:"A .cue file, a directory holding a CUE package, or an mcrouter JSON config."`
	Params      map[string]string `name:"param" placeholder:"NAME=VALUE" help:"JSONM global parameter for mcrouter JSON inputs (repeatable)."`
	RoutePrefix string            `name:"route-prefix" short:"R" default:"/././" help:"Default routing prefix the config is used with (mcrouter's -R)."`
	NumProxies  int               `name:"num-proxies" default:"1" placeholder:"N" help:"Value of the JSONM parameter %num-proxies% (as serve's --num-proxies)."`
	Quiet       bool              `short:"q" help:"Print nothing on success."`
}

// Run compiles the policy and builds its route graph exactly as serve does,
// with fake destinations instead of connections: "valid" means "serve would
// run it".
func (c *validateCmd) Run(ctx context.Context, e *env) error {
	res, err := compiler.Load(ctx, c.Policy, compiler.Options{Params: c.Params, RoutePrefix: c.RoutePrefix, NumProxies: c.NumProxies})
	if err != nil {
		return err
	}
	g, err := route.Build(res.Config, route.Options{Dest: route.NewFake().Dest, DefaultRoutePrefix: c.RoutePrefix})
	if err != nil {
		var l diag.List
		if errors.As(err, &l) {
			return append(res.Diagnostics, l...)
		}
		return err
	}
	defer g.Close()
	all := append(res.Diagnostics, g.Warnings()...)
	printDiags(e, all)
	if !c.Quiet {
		servers := 0
		for _, p := range res.Config.Pools {
			servers += len(p.Servers)
		}
		fmt.Fprintf(e.stdout, "%s: ok (%d pools, %d servers, %d named handles)\n", relPath(e, c.Policy), len(res.Config.Pools), servers, len(res.Config.NamedHandles))
	}
	return nil
}
