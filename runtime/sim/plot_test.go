package sim

import (
	"bytes"
	"context"
	"encoding/xml"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// plotCases are results covering the chart kinds: one config (uniform,
// weighted, replicated), a comparison and a down server.
func plotCases(t *testing.T) map[string]*Result {
	t.Helper()
	four := `{"pools": {"A": {"servers": ["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211", "10.0.0.4:11211"]}}, "route": "PoolRoute|A"}`
	crc3 := `{"pools": {"A": {"servers": ["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"]}}, "route": {"type": "PoolRoute", "pool": "A", "hash": "Crc32"}}`
	crc4 := strings.Replace(four, `"route": "PoolRoute|A"`, `"route": {"type": "PoolRoute", "pool": "A", "hash": "Crc32"}`, 1)
	weighted := `{"pools": {"A": {"servers": ["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211", "10.0.0.4:11211"], "weights": [1, 0.5, 1, 0.25]}}, "route": "PoolRoute|A"}`
	cases := map[string]Options{
		"single":     {Config: decode(t, benchCh3), Name: "three.json"},
		"weighted":   {Config: decode(t, weighted), Name: "weighted.json"},
		"replicated": {Config: decode(t, benchReplicated), Name: "prod.json"},
		"compare":    {Config: decode(t, benchCh3), Name: "three.json", Compare: decode(t, four), CompareName: "four.json"},
		"crc32":      {Config: decode(t, crc3), Name: "crc3.json", Compare: decode(t, crc4), CompareName: "crc4.json"},
		"down":       {Config: decode(t, benchCh3), Name: "three.json", Down: []string{"10.0.0.2:11211"}},
		"many":       {Config: decode(t, benchCh3Big), Name: "sixteen.json"},
	}
	out := map[string]*Result{}
	for name, o := range cases {
		o.Keys = 20000
		r, err := Run(context.Background(), o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = r
	}
	return out
}

// TestPlots checks that the SVG is well-formed XML with the title and a bar
// per server, and that the PNG decodes at twice the SVG's size. With
// MCROUTE_PLOT_DIR set, the plots are also written there, to look at.
func TestPlots(t *testing.T) {
	dir := os.Getenv("MCROUTE_PLOT_DIR")
	for name, r := range plotCases(t) {
		var svg, img bytes.Buffer
		if err := WriteSVG(&svg, r); err != nil {
			t.Fatal(err)
		}
		if err := WritePNG(&img, r); err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(bytes.NewReader(svg.Bytes()))
		rects, texts := 0, ""
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: SVG is not well-formed: %v", name, err)
			}
			switch el := tok.(type) {
			case xml.StartElement:
				if el.Name.Local == "rect" {
					rects++
				}
			case xml.CharData:
				texts += string(el)
			}
		}
		if !strings.Contains(texts, "mcroute simulate: "+r.Config) {
			t.Errorf("%s: SVG lacks the title", name)
		}
		for _, s := range r.Servers {
			if !strings.Contains(texts, s.Server) {
				t.Errorf("%s: SVG lacks the label of %s", name, s.Server)
			}
		}
		if rects < len(r.Servers)+1 {
			t.Errorf("%s: %d rects for %d servers", name, rects, len(r.Servers))
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(img.Bytes()))
		if err != nil {
			t.Fatalf("%s: PNG: %v", name, err)
		}
		c := newChart(r)
		if cfg.Width != int(c.width)*pngScale || cfg.Height != int(c.height)*pngScale {
			t.Errorf("%s: PNG is %dx%d, chart %gx%g", name, cfg.Width, cfg.Height, c.width, c.height)
		}
		if dir != "" {
			os.WriteFile(filepath.Join(dir, name+".svg"), svg.Bytes(), 0o644)
			os.WriteFile(filepath.Join(dir, name+".png"), img.Bytes(), 0o644)
		}
	}
}

func TestNiceAxis(t *testing.T) {
	for _, tc := range []struct{ top, want float64 }{{0.36, 0.4}, {1.08, 1.25}, {0.0912, 0.1}, {0, 1}} {
		got, steps := niceAxis(tc.top)
		if got < tc.top || got-tc.want > 1e-9 || len(steps) < 2 {
			t.Errorf("niceAxis(%g) = %g %v, want %g", tc.top, got, steps, tc.want)
		}
	}
}
