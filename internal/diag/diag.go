// Package diag holds positioned, rule-tagged diagnostics: what the compiler,
// the mcrouter JSON reader, the linter and route.Build report. Diagnostics
// are data; printing them (text, JSON, SARIF, GitHub annotations) is the
// caller's choice.
package diag

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mcroute/mcroute/schema"
)

// Severity ranks a diagnostic. The zero value is Error.
type Severity uint8

// The severities, most severe first.
const (
	Error Severity = iota
	Warning
	Info
)

// String returns "error", "warning" or "info".
func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Info:
		return "info"
	}
	return "error"
}

// ParseSeverity parses the output of String.
func ParseSeverity(s string) (Severity, bool) {
	switch s {
	case "error":
		return Error, true
	case "warning":
		return Warning, true
	case "info":
		return Info, true
	}
	return Error, false
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	v, ok := ParseSeverity(string(b))
	if !ok {
		return fmt.Errorf("diag: unknown severity %q", b)
	}
	*s = v
	return nil
}

// Diagnostic is one finding: where, how bad, which rule, what.
type Diagnostic struct {
	Pos      schema.Pos `json:"pos"`
	Severity Severity   `json:"severity"`
	// Rule is a stable, greppable identifier such as "unknown-pool".
	Rule string `json:"rule"`
	// Message says what is wrong and, where it helps, what to do.
	Message string `json:"message"`
	// Path is the config path of the offending value
	// ("route.operation_policies.get"), when known.
	Path string `json:"path,omitempty"`
}

// String formats d as "file:line:col: severity: message [rule]".
func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.Pos.String())
	b.WriteString(": ")
	b.WriteString(d.Severity.String())
	b.WriteString(": ")
	b.WriteString(d.Message)
	if d.Rule != "" {
		b.WriteString(" [")
		b.WriteString(d.Rule)
		b.WriteString("]")
	}
	return b.String()
}

// List is a list of diagnostics. A List with at least one Error-severity
// diagnostic is used as an error value.
type List []Diagnostic

// Add appends a diagnostic.
func (l *List) Add(pos schema.Pos, sev Severity, rule, format string, args ...any) {
	*l = append(*l, Diagnostic{Pos: pos, Severity: sev, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// Errorf appends an Error-severity diagnostic.
func (l *List) Errorf(pos schema.Pos, rule, format string, args ...any) {
	l.Add(pos, Error, rule, format, args...)
}

// Warnf appends a Warning-severity diagnostic.
func (l *List) Warnf(pos schema.Pos, rule, format string, args ...any) {
	l.Add(pos, Warning, rule, format, args...)
}

// HasErrors reports whether l holds an Error-severity diagnostic.
func (l List) HasErrors() bool {
	for _, d := range l {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Err returns l as an error if it has errors, else nil.
func (l List) Err() error {
	if l.HasErrors() {
		return l
	}
	return nil
}

// Error implements error: one diagnostic per line.
func (l List) Error() string {
	var b strings.Builder
	for i, d := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.String())
	}
	return b.String()
}

// Sort orders l by file, line, column, then severity, rule and message, and
// removes exact duplicates.
func (l *List) Sort() {
	s := *l
	sort.SliceStable(s, func(i, j int) bool {
		a, b := s[i], s[j]
		if a.Pos.File != b.Pos.File {
			return a.Pos.File < b.Pos.File
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col < b.Pos.Col
		}
		if a.Severity != b.Severity {
			return a.Severity < b.Severity
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Message < b.Message
	})
	out := s[:0]
	for i, d := range s {
		if i > 0 && d == s[i-1] {
			continue
		}
		out = append(out, d)
	}
	*l = out
}

// Relative rewrites file names to be relative to dir where that is shorter
// and does not climb out of dir.
func (l List) Relative(dir string) {
	for i := range l {
		f := l[i].Pos.File
		if f == "" || !filepath.IsAbs(f) {
			continue
		}
		if r, err := filepath.Rel(dir, f); err == nil && !strings.HasPrefix(r, "..") {
			l[i].Pos.File = r
		}
	}
}

// MarshalJSON renders the list as a JSON array (never null).
func (l List) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]Diagnostic(l))
}

// AsList returns the diagnostics carried by err: err itself if it is a List,
// else a single Error diagnostic with rule "error".
func AsList(err error) List {
	if err == nil {
		return nil
	}
	var l List
	if errors.As(err, &l) {
		return l
	}
	return List{{Severity: Error, Rule: "error", Message: err.Error()}}
}
