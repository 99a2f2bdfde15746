// Package corpus reads testdata/mcrouter, the router configs of mcrouter's
// own test suite, for tests that run over all of them: its MANIFEST.tsv, and
// each config as mcrouter's test harness feeds it to mcrouter (placeholders
// substituted, config params given).
package corpus

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Entry is one row of MANIFEST.tsv.
type Entry struct {
	// Path is the config's path relative to the corpus directory.
	Path string
	// Kind is "router-config" for configs mcrouter routes with; other
	// kinds are JSONM test vectors, runtime-vars files and the like.
	Kind string
	// Params lists the JSONM params the config needs, comma-separated.
	Params string
	// Notes are the manifest's notes ("intentionally-invalid", ...).
	Notes string
}

// Manifest reads dir/MANIFEST.tsv.
func Manifest(dir string) ([]Entry, error) {
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	defer f.Close()
	var out []Entry
	s := bufio.NewScanner(f)
	s.Scan() // header
	for s.Scan() {
		c := strings.Split(s.Text(), "\t")
		if len(c) < 8 {
			return nil, fmt.Errorf("corpus: bad manifest row %q", s.Text())
		}
		out = append(out, Entry{Path: c[0], Kind: c[1], Params: c[5], Notes: c[7]})
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	return out, nil
}

// Input returns the text of e's config and the JSONM params to load it
// with, as mcrouter's Python test harness provides them: START_TIME and
// localhost:PORT substituted, and a value for each param the config needs.
func Input(dir string, e Entry) ([]byte, map[string]string, error) {
	text, err := os.ReadFile(filepath.Join(dir, e.Path))
	if err != nil {
		return nil, nil, fmt.Errorf("corpus: %w", err)
	}
	text = []byte(strings.ReplaceAll(string(text), "START_TIME", "1700000000"))
	text = []byte(strings.ReplaceAll(string(text), "localhost:PORT", "localhost:11211"))
	params := map[string]string{}
	for _, p := range strings.Split(e.Params, ",") {
		if p != "" {
			params[p] = "12345"
		}
	}
	if e.Params == "POOL,PORT" {
		params["POOL"] = "A"
	}
	if strings.HasSuffix(e.Path, "test_shadow_with_file.json") {
		// Used by the @import'ed fragment.
		params["PORT_SHADOW"] = "12346"
	}
	return text, params, nil
}
