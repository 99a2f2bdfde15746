package importer_test

import (
	"fmt"
	"testing"

	"github.com/mcroute/mcroute/compiler/importer"
	"github.com/mcroute/mcroute/schema"
)

// BenchmarkImport imports a config of 10,000 pools of 10 servers, each with
// a PoolRoute under an OperationSelectorRoute's default HashRoute.
func BenchmarkImport(b *testing.B) {
	cfg := &schema.Config{Pools: map[string]*schema.Pool{}}
	var children []schema.Route
	for i := range 10000 {
		name := fmt.Sprintf("pool-%05d", i)
		p := &schema.Pool{Name: name}
		for j := range 10 {
			p.Servers = append(p.Servers, schema.Server{Addr: fmt.Sprintf("10.%d.%d.%d:11211", i/256, i%256, j)})
		}
		cfg.Pools[name] = p
		children = append(children, &schema.PoolRoute{Pool: name})
	}
	cfg.Route = &schema.OperationSelectorRoute{DefaultPolicy: &schema.HashRoute{Children: children}}
	b.ResetTimer()
	for b.Loop() {
		res, err := importer.Import(cfg, importer.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(res.CUE)))
	}
}
