package routetest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcroute/mcroute/internal/golden"
)

// TestUpdate runs testdata/update/*.txtar: each archive holds a config and a
// test file, prod_test.cue. The file is run with Update; the rewritten file
// and the report are compared with want/prod_test.cue and want/report.txt.
// Then the round trip is checked: the rewritten file passes, a second update
// changes nothing, and every line the update removed belonged to a case it
// rewrote.
func TestUpdate(t *testing.T) {
	golden.Run(t, "testdata/update", func(t *testing.T, a *golden.Archive) map[string][]byte {
		dir := a.WriteTo(t, t.TempDir())
		path := filepath.Join(dir, "prod_test.cue")
		before, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		orig, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		run := func(update bool) *Report {
			t.Helper()
			rep, err := Run(context.Background(), []string{path}, Options{Update: update})
			if err != nil {
				t.Fatal(err)
			}
			rep.Relative(dir)
			return rep
		}
		rep := run(true)
		var report bytes.Buffer
		if err := rep.WriteText(&report); err != nil {
			t.Fatal(err)
		}
		after, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}

		// Round trip: everything that could be updated now passes.
		again := run(false)
		for _, c := range again.Files[0].Cases {
			if c.Status != StatusPass && !strings.HasPrefix(c.Name, "gen_") {
				t.Errorf("after --update, case %s: %s: %s\n%s", c.Name, c.Status, c.Message, c.Diff)
			}
		}
		run(true)
		if after2, _ := os.ReadFile(path); !bytes.Equal(after, after2) {
			t.Errorf("a second --update changed the file:\n%s", unifiedDiff("file", lines(after), lines(after2)))
		}

		// Only the updated cases changed.
		updated := map[string]bool{}
		for _, c := range rep.Files[0].Cases {
			if c.Status == StatusUpdated {
				updated[c.Name] = true
			}
		}
		var spans [][2]int // 0-based line ranges of the updated cases
		for name := range updated {
			for _, fd := range orig.findCase(name) {
				spans = append(spans, [2]int{fd.Pos().Line() - 1, fd.End().Line() - 1})
			}
		}
		for _, op := range diffOps(lines(before), lines(after)) {
			if op.kind != '-' {
				continue
			}
			inside := false
			for _, s := range spans {
				inside = inside || (op.a >= s[0] && op.a <= s[1])
			}
			if !inside {
				t.Errorf("line %d changed outside the updated cases: %q", op.a+1, op.text)
			}
		}
		return map[string][]byte{"want/prod_test.cue": after, "want/report.txt": report.Bytes()}
	})
}

func lines(b []byte) []string { return strings.Split(string(b), "\n") }
