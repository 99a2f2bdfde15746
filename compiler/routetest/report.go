package routetest

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/schema"
)

// Relative rewrites the report's file names (test files, configs, positions)
// relative to dir where they are inside it, as diag.List.Relative does.
func (r *Report) Relative(dir string) {
	rel := func(file string) string {
		l := diag.List{{Pos: schema.Pos{File: file}}}
		l.Relative(dir)
		return l[0].Pos.File
	}
	for _, f := range r.Files {
		f.File = rel(f.File)
		f.Config = rel(f.Config)
		f.Diagnostics.Relative(dir)
		for _, c := range f.Cases {
			c.Pos.File = rel(c.Pos.File)
			c.Errors.Relative(dir)
		}
	}
}

// WriteText writes the report for a person: one line per case (PASS, FAIL,
// ERROR or UPDATED, with the case's position and name), under each failure
// the request and a unified diff of the expected and actual values (and the
// actual path when the case does not expect one), the errors of test files
// that could not run, and a summary line.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, f := range r.Files {
		for _, c := range f.Cases {
			writeCaseText(&b, c)
		}
		for _, d := range f.Diagnostics {
			fmt.Fprintf(&b, "ERROR %s\n", d)
		}
	}
	s := r.Summary
	if len(r.Files) > 0 {
		b.WriteByte('\n')
	}
	verdict := "ok"
	if !s.OK() {
		verdict = "FAIL"
	}
	parts := []string{fmt.Sprintf("%d passed", s.Passed)}
	if s.Failed > 0 {
		parts = append([]string{fmt.Sprintf("%d failed", s.Failed)}, parts...)
	}
	if s.Updated > 0 {
		parts = append(parts, fmt.Sprintf("%d updated", s.Updated))
	}
	if s.Errors > 0 {
		parts = append(parts, fmt.Sprintf("%d error%s", s.Errors, plural(s.Errors)))
	}
	fmt.Fprintf(&b, "%s: %s (%d file%s)\n", verdict, strings.Join(parts, ", "), s.Files, plural(s.Files))
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func writeCaseText(b *strings.Builder, c *CaseResult) {
	switch c.Status {
	case StatusPass:
		fmt.Fprintf(b, "PASS %s: %s\n", c.Pos, c.Name)
	case StatusUpdated:
		fmt.Fprintf(b, "UPDATED %s: %s: %s\n", c.Pos, c.Name, c.Message)
	case StatusError:
		if len(c.Errors) == 0 {
			fmt.Fprintf(b, "ERROR %s: %s: %s\n", c.Pos, c.Name, c.Message)
		}
		for _, d := range c.Errors {
			fmt.Fprintf(b, "ERROR %s\n", d)
		}
	case StatusFail:
		fmt.Fprintf(b, "FAIL %s: %s: %s: %s\n", c.Pos, c.Name, c.Request(), c.Message)
		const in = "    "
		for _, l := range strings.Split(strings.TrimSuffix(c.Diff, "\n"), "\n") {
			if l != "" {
				b.WriteString(in + l + "\n")
			}
		}
		if c.Got == nil {
			return
		}
		if c.Want == nil {
			if len(c.Got.Destinations) == 0 {
				b.WriteString(in + "got destinations: none\n")
			} else {
				b.WriteString(in + "got destinations:\n")
			}
			for _, d := range c.Got.Destinations {
				b.WriteString(in + "  " + d.String() + "\n")
			}
			b.WriteString(in + "got reply: " + c.Got.Reply + "\n")
		}
		if c.Want == nil || c.Want.Path == nil {
			b.WriteString(in + "path:\n")
			for _, l := range c.Got.Path {
				b.WriteString(in + "  " + l + "\n")
			}
		}
	}
}

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// JUnit XML, as CI systems read it.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		File       string          `xml:"file,attr,omitempty"`
		Properties *junitProps     `xml:"properties,omitempty"`
		Cases      []junitTestCase `xml:"testcase"`
	}
	junitProps struct {
		Props []junitProp `xml:"property"`
	}
	junitProp struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitTestCase struct {
		Name      string       `xml:"name,attr"`
		Classname string       `xml:"classname,attr"`
		File      string       `xml:"file,attr,omitempty"`
		Line      int          `xml:"line,attr,omitempty"`
		Failure   *junitResult `xml:"failure,omitempty"`
		Error     *junitResult `xml:"error,omitempty"`
		SystemOut string       `xml:"system-out,omitempty"`
	}
	junitResult struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",cdata"`
	}
)

// WriteJUnit writes the report as JUnit XML: one testsuite per test file,
// one testcase per case; a failing case has a failure whose message names
// the request and whose text is the diff; a case that could not run has an
// error; a test file that could not run is a testsuite with one testcase,
// "load", in error.
func (r *Report) WriteJUnit(w io.Writer) error {
	out := junitSuites{Name: "mcroute test"}
	for _, f := range r.Files {
		s := junitSuite{Name: f.File, File: f.File}
		if f.Config != "" {
			s.Properties = &junitProps{[]junitProp{{Name: "config", Value: f.Config}}}
		}
		if f.Errored() {
			var text strings.Builder
			for _, d := range f.Diagnostics {
				text.WriteString(d.String() + "\n")
			}
			s.Cases = append(s.Cases, junitTestCase{Name: "load", Classname: f.File, File: f.File,
				Error: &junitResult{Message: "the test file cannot run: " + f.Diagnostics[0].Message, Type: "error", Text: text.String()}})
			s.Errors++
		}
		for _, c := range f.Cases {
			tc := junitTestCase{Name: c.Name, Classname: f.File, File: c.Pos.File, Line: c.Pos.Line}
			var text strings.Builder
			switch c.Status {
			case StatusFail:
				writeCaseText(&text, c)
				tc.Failure = &junitResult{Message: c.Request() + ": " + c.Message, Type: "mismatch", Text: text.String()}
				s.Failures++
			case StatusError:
				tc.Error = &junitResult{Message: c.Message, Type: "error", Text: c.Pos.String() + ": " + c.Message + "\n"}
				s.Errors++
			case StatusUpdated:
				tc.SystemOut = c.Message + "\n"
			}
			s.Cases = append(s.Cases, tc)
		}
		s.Tests = len(s.Cases)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Suites = append(out.Suites, s)
	}
	b, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
