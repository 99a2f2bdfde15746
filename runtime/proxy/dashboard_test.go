package proxy_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mcroute/mcroute/internal/memcachedtest"
	"github.com/mcroute/mcroute/runtime/proxy"
)

// dashboardPath is the Grafana dashboard shipped for mcroute's metrics.
const dashboardPath = "../../examples/kubernetes/grafana/mcroute.json"

// targetLabels are the labels Prometheus adds to every series it scrapes
// (instance, job) and that the Prometheus Operator adds from the pod
// (namespace, pod, service, container, endpoint).
var targetLabels = []string{"instance", "job", "namespace", "pod", "service", "container", "endpoint"}

// TestDashboardMetrics checks that the Grafana dashboard parses and that
// every metric its queries name, with every label its selectors match on,
// is one the proxy exports: the names are gathered from the registry of a
// proxy that has served requests to a real memcached, so a renamed or
// removed series fails here rather than as an empty panel.
func TestDashboardMetrics(t *testing.T) {
	exported := exportedMetrics(t)
	// Series registered by "mcroute serve" itself (cmd/mcroute), on the
	// same registry, such as mcroute_discovery_changes_total.
	for _, name := range serveMetricNames(t) {
		if _, ok := exported[name]; !ok {
			exported[name] = nil // labels unknown: any allowed
		}
	}

	b, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string            `json:"title"`
		UID    string            `json:"uid"`
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	if dash.Title == "" || dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("%s: no title, uid or panels", dashboardPath)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	queries := collectQueries(doc, "")
	if len(queries) < 10 {
		t.Fatalf("found %d queries in the dashboard; the walk is broken", len(queries))
	}
	used := map[string]bool{}
	for _, q := range queries {
		sels := promSelectors(q.expr)
		if len(sels) == 0 {
			t.Errorf("%s: no metric in %q", q.where, q.expr)
		}
		for _, s := range sels {
			used[s.metric] = true
			labels, ok := exported[s.metric]
			if !ok {
				t.Errorf("%s: metric %s is not exported by mcroute (query %q)", q.where, s.metric, q.expr)
				continue
			}
			for _, l := range s.labels {
				if labels != nil && !labels[l] && !slices.Contains(targetLabels, l) {
					t.Errorf("%s: %s has no label %q (it has %v)", q.where, s.metric, l, slices.Sorted(maps.Keys(labels)))
				}
			}
		}
	}
	// The dashboard covers what the issue asks for.
	for _, m := range []string{
		"mcroute_requests_total",                  // requests
		"mcroute_request_duration_seconds_bucket", // latency
		"mcroute_request_duration_seconds_count",  // hit ratio
		"mcroute_destination_up",                  // TKO servers
		"mcroute_config_reloads_total",            // reloads
		"mcroute_client_connections",              // connections
	} {
		if !used[m] {
			t.Errorf("the dashboard does not use %s", m)
		}
	}
	t.Logf("%d queries over %d metrics checked", len(queries), len(used))
}

// exportedMetrics runs a proxy with metrics against a real memcached,
// exercises it, and returns the gathered series names with their labels.
func exportedMetrics(t *testing.T) map[string]map[string]bool {
	t.Helper()
	m := memcachedtest.Start(t)
	metrics := proxy.NewMetrics()
	_, addr := startProxy(t, withServers(`{"pools": {"A": {"servers": ["$0"]}}, "route": "PoolRoute|A"}`, m), proxy.Options{Metrics: metrics})
	c := dial(t, "tcp", addr)
	c.do("set k 0 0 1\r\nv\r\n", "STORED")
	c.do("get k\r\n", "END")
	c.do("get missing\r\n", "END")

	fams, err := metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]bool{}
	add := func(name string, labels []string) {
		if out[name] == nil {
			out[name] = map[string]bool{}
		}
		for _, l := range labels {
			out[name][l] = true
		}
	}
	for _, f := range fams {
		for _, mt := range f.GetMetric() {
			labels := labelNames(mt.GetLabel())
			switch f.GetType().String() {
			case "HISTOGRAM":
				add(f.GetName()+"_bucket", append(labels, "le"))
				add(f.GetName()+"_sum", labels)
				add(f.GetName()+"_count", labels)
			case "SUMMARY":
				add(f.GetName(), append(labels, "quantile"))
				add(f.GetName()+"_sum", labels)
				add(f.GetName()+"_count", labels)
			default:
				add(f.GetName(), labels)
			}
		}
	}
	for _, want := range []string{"mcroute_requests_total", "mcroute_destination_up", "mcroute_request_duration_seconds_bucket"} {
		if out[want] == nil {
			t.Fatalf("exercising the proxy did not export %s: got %v", want, slices.Sorted(maps.Keys(out)))
		}
	}
	return out
}

// labelNames returns the names of a gathered metric's label pairs.
func labelNames[L interface{ GetName() string }](pairs []L) []string {
	names := make([]string, 0, len(pairs)+1)
	for _, p := range pairs {
		names = append(names, p.GetName())
	}
	return names
}

// serveMetricNames returns the names of the metrics that cmd/mcroute
// registers on the proxy's registry.
func serveMetricNames(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../cmd/mcroute/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("cmd/mcroute sources: %v", err)
	}
	re := regexp.MustCompile(`Name:\s*"(mcroute_[a-z0-9_]+)"`)
	var names []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			names = append(names, string(m[1]))
		}
	}
	return names
}

// query is one PromQL expression of the dashboard and where it is.
type query struct {
	where, expr string
}

// collectQueries walks the dashboard JSON for PromQL: "expr" fields (panel
// targets, annotations) and label_values(...) variable queries.
func collectQueries(v any, where string) []query {
	var qs []query
	switch v := v.(type) {
	case map[string]any:
		if title, ok := v["title"].(string); ok {
			where = title
		}
		if name, ok := v["name"].(string); ok && where == "" {
			where = "$" + name
		}
		for k, x := range v {
			s, isString := x.(string)
			switch {
			case k == "expr" && isString:
				qs = append(qs, query{where, s})
			case (k == "query" || k == "definition") && isString:
				if m := labelValuesRE.FindStringSubmatch(s); m != nil {
					qs = append(qs, query{"variable " + where, m[1]})
				}
			default:
				qs = append(qs, collectQueries(x, where)...)
			}
		}
	case []any:
		for _, x := range v {
			qs = append(qs, collectQueries(x, where)...)
		}
	}
	return qs
}

var labelValuesRE = regexp.MustCompile(`^label_values\((.+),\s*[a-zA-Z_][a-zA-Z0-9_]*\)$`)

// selector is a metric named in a PromQL expression with the labels its
// matchers name.
type selector struct {
	metric string
	labels []string
}

var (
	// stringRE matches PromQL string literals.
	stringRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	// groupingRE matches label lists of aggregations and vector matching.
	groupingRE = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	// rangeRE matches range and subquery durations.
	rangeRE = regexp.MustCompile(`\[[^\]]*\]`)
	// identRE matches an identifier, with what follows it.
	identRE = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	// matcherRE matches one label matcher's label name.
	matcherRE = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)`)
)

// promKeywords are PromQL words that are not metric names.
var promKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true, "inf": true, "nan": true,
}

// promSelectors returns the metrics an expression selects. It is a small
// lexer, not a PromQL parser: enough for dashboard queries, where a metric
// name is an identifier that is not a keyword, not a function (followed by
// "(") and not inside a grouping clause.
func promSelectors(expr string) []selector {
	// Keep matcher blocks, but blank out what is inside strings so that a
	// regexp like "hit|miss" is not read as identifiers.
	blanked := stringRE.ReplaceAllStringFunc(expr, func(s string) string { return `""` })
	blanked = groupingRE.ReplaceAllString(blanked, "")
	blanked = rangeRE.ReplaceAllString(blanked, "")
	var sels []selector
	i := 0
	for i < len(blanked) {
		loc := identRE.FindStringIndex(blanked[i:])
		if loc == nil {
			break
		}
		start, end := i+loc[0], i+loc[1]
		i = end
		word := blanked[start:end]
		if start > 0 && (isDigit(blanked[start-1]) || blanked[start-1] == '.' || blanked[start-1] == '$') {
			continue // part of a number (1e-3) or a variable
		}
		rest := strings.TrimLeft(blanked[end:], " ")
		if strings.HasPrefix(rest, "(") || promKeywords[strings.ToLower(word)] {
			continue
		}
		sel := selector{metric: word}
		if strings.HasPrefix(rest, "{") {
			closing := strings.IndexByte(rest, '}')
			if closing < 0 {
				closing = len(rest) - 1
			}
			for _, m := range matcherRE.FindAllStringSubmatch(rest[:closing+1], -1) {
				sel.labels = append(sel.labels, m[1])
			}
			i = end + (len(blanked[end:]) - len(rest)) + closing + 1
		}
		sels = append(sels, sel)
	}
	return sels
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func TestPromSelectors(t *testing.T) {
	got := promSelectors(`histogram_quantile(0.99, sum by (le, outcome) (rate(mcroute_request_duration_seconds_bucket{namespace=~"$namespace", outcome=~"hit|miss"}[$__rate_interval]))) / 1e-3 and on (instance) up or vector(0)`)
	want := []selector{
		{"mcroute_request_duration_seconds_bucket", []string{"namespace", "outcome"}},
		{"up", nil},
	}
	if len(got) != len(want) {
		t.Fatalf("promSelectors = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].metric != want[i].metric || !slices.Equal(got[i].labels, want[i].labels) {
			t.Errorf("selector %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
