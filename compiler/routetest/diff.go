package routetest

import (
	"fmt"
	"slices"
	"strings"
)

// unifiedDiff returns a unified diff of two lists of lines, labelled
// "want NAME" and "got NAME", with up to three lines of context around each
// change; "" if they are equal.
func unifiedDiff(name string, want, got []string) string {
	if slices.Equal(want, got) {
		return ""
	}
	ops := diffOps(want, got)
	var b strings.Builder
	fmt.Fprintf(&b, "--- want %s\n+++ got %s\n", name, name)
	const context = 3
	// Group the edit script into hunks separated by more than 2*context
	// equal lines.
	i := 0
	for i < len(ops) {
		// Find the next change.
		for i < len(ops) && ops[i].kind == ' ' {
			i++
		}
		if i == len(ops) {
			break
		}
		start := max(i-context, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*context {
				end = min(end+context, run)
				break
			}
			end = run
		}
		hunk := ops[start:end]
		a0, b0 := hunk[0].a, hunk[0].b
		var na, nb int
		for _, o := range hunk {
			if o.kind != '+' {
				na++
			}
			if o.kind != '-' {
				nb++
			}
		}
		fmt.Fprintf(&b, "@@ -%s +%s @@\n", hunkRange(a0, na), hunkRange(b0, nb))
		for _, o := range hunk {
			b.WriteByte(o.kind)
			b.WriteString(o.text)
			b.WriteByte('\n')
		}
		i = end
	}
	return b.String()
}

func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// diffOp is one line of an edit script: ' ' kept, '-' only in a, '+' only
// in b; a and b are the line's (or, for insertions and deletions, the next
// line's) 0-based index in each list.
type diffOp struct {
	kind byte
	text string
	a, b int
}

// diffOps returns a shortest edit script from a to b (longest common
// subsequence; the lists compared are short).
func diffOps(a, b []string) []diffOp {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, diffOp{' ', a[i], i, j})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, diffOp{'-', a[i], i, j})
			i++
		default:
			ops = append(ops, diffOp{'+', b[j], i, j})
			j++
		}
	}
	return ops
}
