package lint

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/mcroute/mcroute/internal/diag"
)

// Formats returns the names of the output formats Format accepts.
func Formats() []string { return []string{"text", "json", "sarif", "github"} }

// Summary counts findings by severity.
type Summary struct {
	Files    int `json:"files"`
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Infos    int `json:"infos"`
}

// Summarize counts findings; files is the number of files linted.
func Summarize(findings diag.List, files int) Summary {
	s := Summary{Files: files}
	for _, d := range findings {
		switch d.Severity {
		case diag.Error:
			s.Errors++
		case diag.Warning:
			s.Warnings++
		default:
			s.Infos++
		}
	}
	return s
}

// String formats s as "2 errors, 1 warning, 0 infos in 3 files".
func (s Summary) String() string {
	return fmt.Sprintf("%s, %s, %s in %s", count(s.Errors, "error"), count(s.Warnings, "warning"), count(s.Infos, "info"), count(s.Files, "file"))
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// FormatOptions configures Format. The zero value is usable.
type FormatOptions struct {
	// Files is the number of files linted, for the JSON summary.
	Files int
	// Version is the tool version recorded in SARIF output.
	Version string
}

// Format writes findings to w in the named format; they should already be
// sorted, with file names relative to the working directory.
//
//   - text: one "file:line:col: severity: message [rule]" line per finding.
//   - json: {"findings": [{"file", "line", "col", "severity", "rule",
//     "message", "path"}], "summary": {"files", "errors", "warnings",
//     "infos"}}, indented, with every field always present.
//   - sarif: a SARIF 2.1.0 log with one run whose tool.driver.rules
//     describes every rule of Rules, and one result per finding.
//   - github: GitHub Actions workflow commands (::error, ::warning,
//     ::notice) that annotate the files of a pull request.
func Format(w io.Writer, format string, findings diag.List, opts FormatOptions) error {
	switch format {
	case "text", "":
		return formatText(w, findings)
	case "json":
		return formatJSON(w, findings, opts)
	case "sarif":
		return formatSARIF(w, findings, opts)
	case "github":
		return formatGitHub(w, findings)
	}
	return fmt.Errorf("lint: unknown format %q (want one of %s)", format, strings.Join(Formats(), ", "))
}

func formatText(w io.Writer, findings diag.List) error {
	var b strings.Builder
	for _, d := range findings {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonFinding is the JSON form of a finding; the field order is part of the
// output format.
type jsonFinding struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Severity string `json:"severity"`
	Rule     string `json:"rule"`
	Message  string `json:"message"`
	Path     string `json:"path"`
}

func formatJSON(w io.Writer, findings diag.List, opts FormatOptions) error {
	out := struct {
		Findings []jsonFinding `json:"findings"`
		Summary  Summary       `json:"summary"`
	}{Findings: []jsonFinding{}, Summary: Summarize(findings, opts.Files)}
	for _, d := range findings {
		out.Findings = append(out.Findings, jsonFinding{
			File: filepath.ToSlash(d.Pos.File), Line: d.Pos.Line, Col: d.Pos.Col,
			Severity: d.Severity.String(), Rule: d.Rule, Message: d.Message, Path: d.Path,
		})
	}
	return writeJSON(w, out)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// SARIFSchemaURI is the $schema of the SARIF logs Format writes.
const SARIFSchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string    `json:"id"`
	ShortDescription     sarifText `json:"shortDescription"`
	FullDescription      sarifText `json:"fullDescription"`
	DefaultConfiguration struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
	Help sarifText `json:"help"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation struct {
		ArtifactLocation struct {
			URI string `json:"uri"`
		} `json:"artifactLocation"`
		Region *sarifRegion `json:"region,omitempty"`
	} `json:"physicalLocation"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex *int            `json:"ruleIndex,omitempty"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

func sarifLevel(s diag.Severity) string {
	switch s {
	case diag.Error:
		return "error"
	case diag.Warning:
		return "warning"
	}
	return "note"
}

// sarifURI turns a relative file name into a relative URI reference.
func sarifURI(file string) string {
	u := url.URL{Path: filepath.ToSlash(file)}
	return u.String()
}

func formatSARIF(w io.Writer, findings diag.List, opts FormatOptions) error {
	rules := Rules()
	index := map[string]int{}
	driverRules := make([]sarifRule, len(rules))
	for i, r := range rules {
		index[r.ID] = i
		sr := sarifRule{ID: r.ID, ShortDescription: sarifText{r.Summary}, FullDescription: sarifText{r.Doc}, Help: sarifText{r.Doc}}
		sr.DefaultConfiguration.Level = sarifLevel(r.Severity)
		driverRules[i] = sr
	}
	results := []sarifResult{}
	for _, d := range findings {
		res := sarifResult{RuleID: d.Rule, Level: sarifLevel(d.Severity), Message: sarifText{d.Message}}
		if res.RuleID == "" {
			res.RuleID = "error"
		}
		if i, ok := index[d.Rule]; ok {
			res.RuleIndex = &i
		}
		if d.Pos.File != "" {
			var loc sarifLocation
			loc.PhysicalLocation.ArtifactLocation.URI = sarifURI(d.Pos.File)
			if d.Pos.Line > 0 {
				loc.PhysicalLocation.Region = &sarifRegion{StartLine: d.Pos.Line, StartColumn: d.Pos.Col}
			}
			res.Locations = []sarifLocation{loc}
		}
		results = append(results, res)
	}
	version := opts.Version
	if version == "" {
		version = "devel"
	}
	type driver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	type run struct {
		Tool struct {
			Driver driver `json:"driver"`
		} `json:"tool"`
		Results []sarifResult `json:"results"`
	}
	var r run
	r.Tool.Driver = driver{Name: "mcroute", Version: version, InformationURI: "https://github.com/mcroute/mcroute", Rules: driverRules}
	r.Results = results
	return writeJSON(w, struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []run  `json:"runs"`
	}{SARIFSchemaURI, "2.1.0", []run{r}})
}

// githubData escapes a workflow command's message.
var githubData = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")

// githubProperty escapes a workflow command's property value.
var githubProperty = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")

func formatGitHub(w io.Writer, findings diag.List) error {
	var b strings.Builder
	for _, d := range findings {
		cmd := "error"
		switch d.Severity {
		case diag.Warning:
			cmd = "warning"
		case diag.Info:
			cmd = "notice"
		}
		var props []string
		if d.Pos.File != "" {
			props = append(props, "file="+githubProperty.Replace(filepath.ToSlash(d.Pos.File)))
		}
		if d.Pos.Line > 0 {
			props = append(props, fmt.Sprintf("line=%d", d.Pos.Line))
			if d.Pos.Col > 0 {
				props = append(props, fmt.Sprintf("col=%d", d.Pos.Col))
			}
		}
		if d.Rule != "" {
			props = append(props, "title="+githubProperty.Replace(d.Rule))
		}
		if len(props) > 0 {
			cmd += " " + strings.Join(props, ",")
		}
		fmt.Fprintf(&b, "::%s::%s\n", cmd, githubData.Replace(d.Message))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
