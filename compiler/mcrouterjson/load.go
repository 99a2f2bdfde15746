package mcrouterjson

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mcroute/mcroute/compiler/jsonm"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/runtime/hash"
	"github.com/mcroute/mcroute/schema"
)

// LoadOptions configures Load. The zero value is usable.
type LoadOptions struct {
	// Params are JSONM global params given as name=value (mcrouter's
	// --config-params). They are added to the defaults mcrouter itself
	// provides: default-route "/././", default-region ".", default-cluster
	// ".", router-name "mcroute", num-proxies "1".
	Params map[string]string
	// AllowImportOutside lets @import read files outside the directory of
	// the config file (default false: refused).
	AllowImportOutside bool
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

// DefaultParams returns the global params mcrouter defines for every config.
func DefaultParams() map[string]string {
	return map[string]string{
		"default-route":   schema.DefaultRoutePrefix,
		"default-region":  ".",
		"default-cluster": ".",
		"router-name":     "mcroute",
		"num-proxies":     "1",
	}
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
	params := map[string]*jsonm.Value{}
	for k, v := range DefaultParams() {
		params[k] = jsonm.NewString(v, jsonm.Pos{})
	}
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
	cfg, ds := Decode(expanded, DecodeOptions{})
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
