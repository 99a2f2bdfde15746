package lint_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"golang.org/x/tools/txtar"

	"github.com/mcroute/mcroute/compiler/lint"
	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/internal/golden"
	"github.com/mcroute/mcroute/schema"
)

// sampleFindings covers the cases formatters must handle: every severity,
// a rule lint does not know, no position, and text that needs escaping.
var sampleFindings = diag.List{
	{Pos: schema.Pos{File: "a.json", Line: 3, Col: 7}, Severity: diag.Error, Rule: "unknown-pool", Message: `unknown pool "C"`, Path: "route.pool"},
	{Pos: schema.Pos{File: "dir/b c,d:e.json", Line: 10, Col: 1}, Severity: diag.Warning, Rule: "stale-delete", Message: "100% stale\nafter a failed delete, really", Path: "route"},
	{Pos: schema.Pos{File: "policy.cue", Line: 4}, Severity: diag.Info, Rule: "asynclog-delete", Message: "info"},
	{Pos: schema.Pos{File: "x.json"}, Severity: diag.Error, Rule: "some-cue-rule", Message: "no line"},
	{Severity: diag.Error, Message: "no position, no rule"},
}

// TestFormat compares the text, json and github renderings with
// testdata/format/findings.txtar.
func TestFormat(t *testing.T) {
	path := filepath.Join("testdata", "format", "findings.txtar")
	ar, err := txtar.ParseFile(path)
	if err != nil {
		if !golden.Update() {
			t.Fatal(err)
		}
		ar = &txtar.Archive{Comment: []byte("lint.Format of sampleFindings in format_test.go.\n")}
	}
	got := map[string][]byte{}
	for _, f := range []string{"text", "json", "github"} {
		var b bytes.Buffer
		if err := lint.Format(&b, f, sampleFindings, lint.FormatOptions{Files: 3, Version: "v1.2.3"}); err != nil {
			t.Fatal(err)
		}
		got["want."+f] = b.Bytes()
	}
	golden.Check(t, &golden.Archive{Archive: ar, Path: path}, got)
	if err := lint.Format(&bytes.Buffer{}, "yaml", nil, lint.FormatOptions{}); err == nil {
		t.Error("Format accepted an unknown format")
	}
}

// TestFormatJSONEmpty: no findings is an empty list, not null.
func TestFormatJSONEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := lint.Format(&b, "json", nil, lint.FormatOptions{Files: 1}); err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"findings\": [],\n  \"summary\": {\n    \"files\": 1,\n    \"errors\": 0,\n    \"warnings\": 0,\n    \"infos\": 0\n  }\n}\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// TestFormatSARIF validates the SARIF log against the SARIF 2.1.0
// properties mcroute uses and checks rules and results.
func TestFormatSARIF(t *testing.T) {
	var b bytes.Buffer
	if err := lint.Format(&b, "sarif", sampleFindings, lint.FormatOptions{Version: "v1.2.3"}); err != nil {
		t.Fatal(err)
	}
	schemaText, err := os.ReadFile(filepath.Join("testdata", "format", "sarif-2.1.0-subset.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat = true
	if err := c.AddResource("mem://sarif.json", bytes.NewReader(schemaText)); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("mem://sarif.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(b.Bytes()))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(doc); err != nil {
		t.Fatalf("SARIF output does not validate: %#v\n%s", err, b.String())
	}

	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Name, Version string
					Rules         []struct {
						ID                   string
						DefaultConfiguration struct{ Level string }
					}
				}
			}
			Results []struct {
				RuleID    string
				RuleIndex *int
				Level     string
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           *struct{ StartLine, StartColumn int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	rules := lint.Rules()
	if len(run.Tool.Driver.Rules) != len(rules) || run.Tool.Driver.Version != "v1.2.3" {
		t.Fatalf("driver has %d rules (want %d), version %q", len(run.Tool.Driver.Rules), len(rules), run.Tool.Driver.Version)
	}
	for i, r := range rules {
		d := run.Tool.Driver.Rules[i]
		want := map[diag.Severity]string{diag.Error: "error", diag.Warning: "warning", diag.Info: "note"}[r.Severity]
		if d.ID != r.ID || d.DefaultConfiguration.Level != want {
			t.Errorf("rule %d: got %s/%s, want %s/%s", i, d.ID, d.DefaultConfiguration.Level, r.ID, want)
		}
	}
	if len(run.Results) != len(sampleFindings) {
		t.Fatalf("%d results for %d findings", len(run.Results), len(sampleFindings))
	}
	for i, res := range run.Results {
		f := sampleFindings[i]
		if res.RuleIndex != nil && run.Tool.Driver.Rules[*res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %d: ruleIndex %d is %s, not %s", i, *res.RuleIndex, run.Tool.Driver.Rules[*res.RuleIndex].ID, res.RuleID)
		}
		if _, known := lint.Lookup(f.Rule); known != (res.RuleIndex != nil) {
			t.Errorf("result %d (%s): ruleIndex present = %v", i, f.Rule, res.RuleIndex != nil)
		}
		if f.Pos.File == "" {
			if len(res.Locations) != 0 {
				t.Errorf("result %d has a location without a file", i)
			}
			continue
		}
		loc := res.Locations[0].PhysicalLocation
		if f.Pos.Line > 0 && (loc.Region == nil || loc.Region.StartLine != f.Pos.Line || loc.Region.StartColumn != f.Pos.Col) {
			t.Errorf("result %d: region %+v, want %d:%d", i, loc.Region, f.Pos.Line, f.Pos.Col)
		}
	}
	if got := run.Results[1].Locations[0].PhysicalLocation.ArtifactLocation.URI; got != "dir/b%20c,d:e.json" {
		t.Errorf("uri = %q", got)
	}
}

// TestFormatGitHubEscaping checks the workflow-command escapes.
func TestFormatGitHubEscaping(t *testing.T) {
	var b bytes.Buffer
	if err := lint.Format(&b, "github", sampleFindings[1:2], lint.FormatOptions{}); err != nil {
		t.Fatal(err)
	}
	want := "::warning file=dir/b c%2Cd%3Ae.json,line=10,col=1,title=stale-delete::100%25 stale%0Aafter a failed delete, really\n"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
	if strings.Count(b.String(), "\n") != 1 {
		t.Error("a finding spans several lines")
	}
}

func TestSummary(t *testing.T) {
	s := lint.Summarize(sampleFindings, 1)
	if got, want := s.String(), "3 errors, 1 warning, 1 info in 1 file"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
