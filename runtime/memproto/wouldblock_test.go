package memproto

import (
	"errors"
	"strings"
	"testing"
)

// stutterReader returns its input in small pieces with ErrWouldBlock
// before each one, as a non-blocking socket does when data trickles in.
type stutterReader struct {
	data  []byte
	step  int
	block bool // return ErrWouldBlock before each piece
	ready bool
	n     int
}

func (s *stutterReader) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, errEOF
	}
	if s.block && !s.ready {
		s.ready = true
		return 0, ErrWouldBlock
	}
	s.ready = false
	s.n++
	k := 1 + (s.n*s.step)%7
	k = min(k, len(p), len(s.data))
	copy(p, s.data[:k])
	s.data = s.data[k:]
	return k, nil
}

var errEOF = errors.New("EOF")

// describeResuming is describeAll for a reader whose source may return
// ErrWouldBlock: ReadCommand is called again after each.
func describeResuming(r *Reader) string {
	var out strings.Builder
	var cmd Command
	for i := 0; i < 10_000_000; i++ {
		err := r.ReadCommand(&cmd)
		if err == ErrWouldBlock {
			continue
		}
		if err == nil {
			out.WriteString(describeCommand(&cmd))
			out.WriteByte('\n')
			continue
		}
		var pe *ProtocolError
		if !errors.As(err, &pe) {
			break
		}
		out.WriteString(describeErr(err))
		out.WriteByte('\n')
		if pe.Close {
			break
		}
	}
	return out.String()
}

// TestWouldBlockResumes feeds every golden reader input through a source
// that returns ErrWouldBlock between pieces of 1 to 7 bytes: the commands
// and errors must be those of reading the same pieces without it.
func TestWouldBlockResumes(t *testing.T) {
	cases := goldenReaderInputs(t)
	for _, tc := range cases {
		for step := 1; step <= 3; step++ {
			want := describeResuming(NewReaderSize(&stutterReader{data: tc.input, step: step}, 64))
			got := describeResuming(NewReaderSize(&stutterReader{data: tc.input, step: step, block: true}, 64))
			if got != want {
				t.Errorf("%s (step %d): read with ErrWouldBlock:\n%s\nread without it:\n%s", tc.name, step, got, want)
			}
		}
	}
	t.Logf("%d inputs", len(cases))
}
