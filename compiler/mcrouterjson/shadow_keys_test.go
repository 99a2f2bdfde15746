package mcrouterjson_test

import (
	"strings"
	"testing"

	"github.com/mcroute/mcroute/compiler/mcrouterjson"
	"github.com/mcroute/mcroute/schema"
)

// TestKeysToShadow: a shadow with keys_to_shadow needs no index_range (it
// applies to every server) and is taken without a warning; mcrouter refuses
// one that also has index_range, key_fraction_range or key_fraction_range_rv
// (ShadowSettings::create), and so skips it.
func TestKeysToShadow(t *testing.T) {
	const pools = `"pools": {"P": {"servers": ["h1:1", "h2:1"]}, "S": {"servers": ["s:1"]}}`
	for _, tc := range []struct {
		name, shadow string
		keep         bool
		warn         string
	}{
		{"keys only", `{"target": "PoolRoute|S", "keys_to_shadow": ["f101"]}`, true, ""},
		{"empty keys with ranges", `{"target": "PoolRoute|S", "keys_to_shadow": [], "index_range": [0, 1], "key_fraction_range": [0, 1]}`, true, ""},
		{"keys and index_range", `{"target": "PoolRoute|S", "keys_to_shadow": ["f101"], "index_range": [0, 2]}`, false,
			"a shadow with keys_to_shadow cannot have index_range"},
		{"keys and key_fraction_range", `{"target": "PoolRoute|S", "keys_to_shadow": ["f101"], "key_fraction_range": [0, 1]}`, false,
			"a shadow with keys_to_shadow cannot have key_fraction_range"},
		{"keys and key_fraction_range_rv", `{"target": "PoolRoute|S", "keys_to_shadow": ["f101"], "key_fraction_range_rv": "rv"}`, false,
			"a shadow with keys_to_shadow cannot have key_fraction_range_rv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := `{` + pools + `, "route": {"type": "PoolRoute", "pool": "P", "shadows": [` + tc.shadow + `]}}`
			l := mcrouterjson.LoadBytes("shadow.json", []byte(cfg), mcrouterjson.LoadOptions{})
			if l.Config == nil || l.Diagnostics.HasErrors() {
				t.Fatalf("diagnostics: %v", l.Diagnostics)
			}
			pr := l.Config.Route.(*schema.PoolRoute)
			if got := len(pr.Shadows) == 1; got != tc.keep {
				t.Errorf("shadow kept: %v, want %v", got, tc.keep)
			}
			var msgs []string
			for _, d := range l.Diagnostics {
				msgs = append(msgs, d.Message)
			}
			all := strings.Join(msgs, "\n")
			if tc.warn == "" && strings.Contains(all, "shadow") {
				t.Errorf("unexpected shadow diagnostics:\n%s", all)
			}
			if tc.warn != "" && !strings.Contains(all, tc.warn+" (keys_to_shadow applies to every server); mcrouter skips this shadow") {
				t.Errorf("diagnostics:\n%s\nwant %q", all, tc.warn)
			}
		})
	}
}
