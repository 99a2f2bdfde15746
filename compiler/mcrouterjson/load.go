package mcrouterjson

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mcroute/mcroute/compiler/jsonm"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/runtime/hash"
	"github.com/mcroute/mcroute/schema"
)

// LoadOptions configures Load. The zero value is usable.
type LoadOptions struct {
	// Params are JSONM global params given as name=value (mcrouter's
	// --config-params). They are added to the built-in params (see
	// GlobalParams), and replace those of the same name (which mcrouter's
	// --config-params cannot).
	Params map[string]string
	// AllowImportOutside lets @import read files outside the directory of
	// the config file (default false: refused).
	AllowImportOutside bool
	// RoutePrefix is the default routing prefix (mcrouter's -R), which the
	// params default-route, default-region and default-cluster give.
	// Empty means "/././".
	RoutePrefix string
	// HostID is the value of the param hostid. Zero means DefaultHostID().
	HostID uint32
	// NumProxies is the value of the param num-proxies (mcrouter's
	// --num-proxies). Zero means 1.
	NumProxies int
}

// RuleSyntax and RulePreprocess tag diagnostics from the JSONC parser and
// the JSONM preprocessor.
const (
	RuleSyntax     = "json-syntax"
	RulePreprocess = "jsonm"
	RuleIO         = "io"
)

// Loaded is the result of Load.
type Loaded struct {
	// Config is the route graph; nil when the file could not be read,
	// parsed or expanded.
	Config *schema.Config
	// Raw is the parsed file before macro expansion, Expanded after.
	Raw, Expanded *jsonm.Value
	// Diagnostics holds every finding, errors and warnings, sorted.
	Diagnostics diag.List
	// Sources lists the files read: the config and everything it
	// @imported.
	Sources []string
	// Text is the raw text of the config file.
	Text []byte
}

// GlobalParams returns the built-in global params, as mcrouter defines them
// for every config (ProxyConfigBuilder::buildGlobalParams), for a router
// configured with opts:
//
//   - default-route: the default routing prefix, "/region/cluster/";
//   - default-region and default-cluster: its two parts;
//   - hostid: the host id, an integer;
//   - router-name "mcroute" (mcrouter's router_name);
//   - service-name "unknown" (mcrouter's default --service-name);
//   - service-router-capable: the integer 0;
//   - router-info-name "Memcache" (the carbon router mcrouter runs by
//     default);
//   - num-proxies: the number of proxies, an integer.
//
// opts.Params are not included.
func GlobalParams(opts LoadOptions) map[string]*jsonm.Value {
	prefix := opts.RoutePrefix
	if prefix == "" {
		prefix = schema.DefaultRoutePrefix
	}
	region, cluster := ".", "."
	if ValidRoutingPrefix(prefix) {
		region, cluster, _ = strings.Cut(prefix[1:len(prefix)-1], "/")
	}
	hostID := opts.HostID
	if hostID == 0 {
		hostID = DefaultHostID()
	}
	proxies := opts.NumProxies
	if proxies <= 0 {
		proxies = 1
	}
	str := func(s string) *jsonm.Value { return jsonm.NewString(s, jsonm.Pos{}) }
	num := func(i int64) *jsonm.Value { return jsonm.NewInt(i, jsonm.Pos{}) }
	return map[string]*jsonm.Value{
		"default-route":          str(prefix),
		"default-region":         str(region),
		"default-cluster":        str(cluster),
		"hostid":                 num(int64(hostID)),
		"router-name":            str("mcroute"),
		"service-name":           str("unknown"),
		"service-router-capable": num(0),
		"router-info-name":       str("Memcache"),
		"num-proxies":            num(int64(proxies)),
	}
}

// DefaultHostID returns the host id mcroute uses when none is configured:
// SpookyHash32 (seed 0) of the host name, or 0 if it is unknown. It is the
// same as runtime/route.DefaultHostID, so that %hostid% and the routes that
// hash the host id (HostIdRoute, LatestRoute) agree.
func DefaultHostID() uint32 {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return 0
	}
	return hash.Spooky32([]byte(h), 0)
}

// Load reads an mcrouter config file as mcrouter does: JSONC (comments and
// trailing commas), then the JSONM preprocessor (macros, consts, @import
// relative to the file), then Decode. It returns an error only when the
// file cannot be read; problems in the config are diagnostics (with
// Loaded.Config nil when they prevent decoding).
func Load(path string, opts LoadOptions) (*Loaded, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return LoadBytes(path, text, opts), nil
}

// LoadBytes is Load for text already read from path. The directory of path
// is where relative @import paths are resolved.
func LoadBytes(path string, text []byte, opts LoadOptions) *Loaded {
	l := &Loaded{Text: text, Sources: []string{path}}
	raw, err := jsonm.Parse(path, text)
	if err != nil {
		l.Diagnostics = append(l.Diagnostics, toDiags(err, RuleSyntax)...)
		return l
	}
	l.Raw = raw
	params := GlobalParams(opts)
	for k, v := range opts.Params {
		params[k] = jsonm.NewString(v, jsonm.Pos{File: "--param " + k})
	}
	importer := jsonm.ImportFromDir(filepath.Dir(path), opts.AllowImportOutside)
	expanded, err := jsonm.Expand(raw, jsonm.Options{
		Params: params,
		Import: func(p string) ([]byte, string, error) {
			data, name, err := importer(p)
			if err == nil {
				l.Sources = append(l.Sources, name)
			}
			return data, name, err
		},
		Hash64: func(b []byte) uint64 { return hash.Spooky64(b, 0) },
	})
	if err != nil {
		l.Diagnostics = append(l.Diagnostics, toDiags(err, RulePreprocess)...)
		l.Diagnostics.Sort()
		return l
	}
	l.Expanded = expanded
	cfg, ds := Decode(expanded, DecodeOptions{RoutePrefix: opts.RoutePrefix})
	l.Config = cfg
	l.Diagnostics = append(l.Diagnostics, ds...)
	l.Diagnostics.Sort()
	return l
}

// toDiags converts parser and preprocessor errors to diagnostics.
func toDiags(err error, rule string) diag.List {
	var out diag.List
	add := func(p jsonm.Pos, msg string) {
		out = append(out, diag.Diagnostic{Pos: schema.Pos{File: p.File, Line: p.Line, Col: p.Col}, Severity: diag.Error, Rule: rule, Message: msg})
	}
	var se *jsonm.SyntaxError
	var list jsonm.ErrorList
	var one *jsonm.Error
	switch {
	case errors.As(err, &se):
		add(se.Pos, se.Msg)
	case errors.As(err, &list):
		for _, e := range list {
			add(e.Pos, expandMessage(e))
		}
	case errors.As(err, &one):
		add(one.Pos, expandMessage(one))
	default:
		out = append(out, diag.Diagnostic{Severity: diag.Error, Rule: rule, Message: err.Error()})
	}
	return out
}

// expandMessage is the error's message followed by where the expansion came
// from, innermost first.
func expandMessage(e *jsonm.Error) string {
	msg := e.Msg
	for _, f := range e.Stack {
		msg += "; " + f.What + " at " + f.Pos.String()
	}
	return msg
}
