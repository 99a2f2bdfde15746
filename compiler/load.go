package compiler

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/schema"
)

// Options configures Load. The zero value is usable.
type Options struct {
	// Params are parameters given on the command line as NAME=VALUE. For
	// an mcrouter JSON config they are JSONM global params (mcrouter's
	// --config-params); for a CUE policy they set the fields marked
	// @tag(NAME). Params a config does not use are ignored.
	Params map[string]string
	// AllowImportOutside lets an mcrouter JSON config @import files outside
	// its own directory (default false: refused).
	AllowImportOutside bool
	// RoutePrefix is the default routing prefix the config will be used
	// with (mcrouter's -R). When empty, a routes table without "/././" is
	// only a warning. An mcrouter JSON config sees it in the JSONM params
	// default-route, default-region and default-cluster ("/././" when
	// empty).
	RoutePrefix string
	// HostID is the JSONM param hostid of an mcrouter JSON config; it
	// should be the host id the graph is run with. Zero means
	// mcrouterjson.DefaultHostID().
	HostID uint32
	// NumProxies is the JSONM param num-proxies of an mcrouter JSON config
	// (mcrouter's --num-proxies). Zero means 1.
	NumProxies int
}

// Formats of the configs Load reads.
const (
	FormatCUE  = "cue"
	FormatJSON = "json"
)

// Result is a loaded config.
type Result struct {
	// Config is the route graph. It is nil when the config has errors that
	// prevent building it; it may be non-nil and still have errors.
	Config *schema.Config
	// Diagnostics holds every finding, errors and warnings, sorted.
	Diagnostics diag.List
	// Sources lists the files read (the policy's .cue files, or the JSON
	// config and what it imported), for reload watching.
	Sources []string
	// Text is the config as read: the JSON file, the .cue file, or for a
	// directory its .cue files concatenated in name order.
	Text []byte
	// Digest is the hex MD5 of Text, which mcrouter reports as
	// __mcrouter__.config_md5_digest.
	Digest string
	// Format is FormatCUE or FormatJSON.
	Format string
}

// Load reads the config at path: a directory or a .cue file is a CUE policy
// (a package, checked against the policy language and compiled); any other
// file is an mcrouter JSON config (JSONC with JSONM macros).
//
// When the config has errors, Load returns them as a diag.List error (with
// the warnings too), along with the Result. Other errors (an unreadable
// file) are returned as plain errors with a nil Result.
//
// The context is checked between compilation stages; CUE evaluation itself
// cannot be interrupted.
func Load(ctx context.Context, path string, opts Options) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	var res *Result
	if fi.IsDir() || filepath.Ext(path) == ".cue" {
		res, err = loadCUE(ctx, path, fi.IsDir(), opts)
	} else {
		res, err = loadJSON(path, opts)
	}
	if err != nil {
		return nil, err
	}
	res.Diagnostics.Sort()
	sum := md5.Sum(res.Text)
	res.Digest = hex.EncodeToString(sum[:])
	if res.Diagnostics.HasErrors() {
		return res, res.Diagnostics
	}
	return res, nil
}

func loadJSON(path string, opts Options) (*Result, error) {
	l, err := mcrouterjson.Load(path, mcrouterjson.LoadOptions{Params: opts.Params, AllowImportOutside: opts.AllowImportOutside,
		RoutePrefix: opts.RoutePrefix, HostID: opts.HostID, NumProxies: opts.NumProxies})
	if err != nil {
		return nil, err
	}
	return &Result{Config: l.Config, Diagnostics: l.Diagnostics, Sources: l.Sources, Text: l.Text, Format: FormatJSON}, nil
}
