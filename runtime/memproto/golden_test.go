package memproto

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/rogpeppe/go-internal/txtar"
)

// Golden files under testdata/reader/*.txtar hold client input ("in": one
// Go-escaped string per line, concatenated without separators) and the
// outcome of each ReadCommand call ("want"). MCROUTE_UPDATE=1 rewrites
// "want".

var update = os.Getenv("MCROUTE_UPDATE") == "1"

// repeatRE matches the {s*n} macro: the string s repeated n times.
var repeatRE = regexp.MustCompile(`\{([^*{}]+)\*([0-9]+)\}`)

// unescapeLines joins the Go-escaped lines of a txtar section. Lines
// starting with '#' are comments; {s*n} stands for s repeated n times.
func unescapeLines(t testing.TB, data []byte) []byte {
	var out []byte
	for _, l := range strings.Split(string(data), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		l = repeatRE.ReplaceAllStringFunc(l, func(m string) string {
			sub := repeatRE.FindStringSubmatch(m)
			n, _ := strconv.Atoi(sub[2])
			return strings.Repeat(sub[1], n)
		})
		s, err := strconv.Unquote(`"` + strings.ReplaceAll(l, `"`, `\"`) + `"`)
		if err != nil {
			t.Fatalf("bad escaped line %q: %v", l, err)
		}
		out = append(out, s...)
	}
	return out
}

// describeCommand renders a command compactly, listing only set fields.
func describeCommand(c *Command) string {
	var b strings.Builder
	if c.Meta != 0 {
		fmt.Fprintf(&b, "m%c:", c.Meta)
	}
	b.WriteString(c.Op.String())
	for i, k := range c.Keys {
		if i == 4 && len(c.Keys) > 6 {
			fmt.Fprintf(&b, " ...(%d keys)", len(c.Keys))
			break
		}
		if len(k) > 40 {
			fmt.Fprintf(&b, " key=(%d bytes)", len(k))
		} else {
			fmt.Fprintf(&b, " key=%q", k)
		}
	}
	if c.Flags != 0 {
		fmt.Fprintf(&b, " flags=%d", c.Flags)
	}
	if c.Exptime != 0 {
		fmt.Fprintf(&b, " exptime=%d", c.Exptime)
	}
	if c.CAS != 0 {
		fmt.Fprintf(&b, " cas=%d", c.CAS)
	}
	if c.Delta != 0 {
		fmt.Fprintf(&b, " delta=%d", c.Delta)
	}
	if c.NoReply {
		b.WriteString(" noreply")
	}
	if c.Value != nil {
		if len(c.Value) > 40 {
			fmt.Fprintf(&b, " value=(%d bytes)", len(c.Value))
		} else {
			fmt.Fprintf(&b, " value=%q", c.Value)
		}
	}
	if c.MetaFlags != nil {
		fmt.Fprintf(&b, " metaflags=%q", c.MetaFlags)
	}
	if c.Args != nil {
		fmt.Fprintf(&b, " args=%q", c.Args)
	}
	return b.String()
}

// describeErr renders a ReadCommand error.
func describeErr(err error) string {
	var pe *ProtocolError
	switch {
	case errors.As(err, &pe):
		s := fmt.Sprintf("reply %q", pe.Reply)
		if pe.Close {
			s += " close"
		}
		if d := pe.Invalidate; d != nil {
			s += fmt.Sprintf(" then delete %q", d.Key)
			if d.Meta != 0 {
				s += fmt.Sprintf(" (md %q)", d.MetaFlags)
			}
		}
		return s
	case err == io.EOF:
		return "EOF"
	case err == io.ErrUnexpectedEOF:
		return "unexpected EOF"
	}
	return "error " + err.Error()
}

// runReader reads all commands of input and describes each outcome.
func runReader(input []byte, setup func(*Reader)) string {
	r := NewReader(bytes.NewReader(input))
	if setup != nil {
		setup(r)
	}
	return describeAll(r)
}

// describeAll reads all commands from r and describes each outcome.
func describeAll(r *Reader) string {
	var out strings.Builder
	var cmd Command
	for i := 0; i < 10000; i++ {
		err := r.ReadCommand(&cmd)
		if err == nil {
			out.WriteString(describeCommand(&cmd))
			out.WriteByte('\n')
			if cmd.Op == mc.OpQuit {
				break
			}
			continue
		}
		out.WriteString(describeErr(err))
		out.WriteByte('\n')
		var pe *ProtocolError
		if !errors.As(err, &pe) || pe.Close {
			break
		}
	}
	return out.String()
}

func TestGoldenReader(t *testing.T) {
	files, err := filepath.Glob("testdata/reader/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			// Sections come in pairs: "<name>.in" and "<name>.want".
			changed := false
			for i := range ar.Files {
				f := &ar.Files[i]
				name, ok := strings.CutSuffix(f.Name, ".in")
				if !ok {
					continue
				}
				got := runReader(unescapeLines(t, f.Data), nil)
				var want *txtar.File
				for j := range ar.Files {
					if ar.Files[j].Name == name+".want" {
						want = &ar.Files[j]
					}
				}
				if update {
					if want == nil {
						ar.Files = append(ar.Files, txtar.File{Name: name + ".want"})
						want = &ar.Files[len(ar.Files)-1]
					}
					if string(want.Data) != got {
						want.Data = []byte(got)
						changed = true
					}
					continue
				}
				if want == nil {
					t.Errorf("%s: no %s.want section", name, name)
					continue
				}
				if diff := cmp.Diff(string(want.Data), got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", name, diff)
				}
			}
			if changed {
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
