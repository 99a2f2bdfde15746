package sim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// endlessKeys is a reader of key lines that never ends.
type endlessKeys struct {
	n   uint64
	buf []byte
}

func (r *endlessKeys) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) {
		r.buf = strconv.AppendUint(append(r.buf, "line:"...), r.n, 10)
		r.buf = append(r.buf, '\n')
		r.n++
	}
	n := copy(p, r.buf)
	r.buf = append(r.buf[:0], r.buf[n:]...)
	return n, nil
}

// cancelAfterProgress cancels ctx once p shows some keys done.
func cancelAfterProgress(t *testing.T, p *Progress, cancel context.CancelFunc) {
	t.Helper()
	go func() {
		deadline := time.Now().Add(time.Minute)
		for p.Keys() < 3*chunkKeys && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
}

// TestRunCanceled: a run stopped by its context (Ctrl-C) returns the
// counts of the keys simulated so far, marked partial, and the context's
// error; the counts add up.
func TestRunCanceled(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"pattern", Options{Keys: 1e15}},
		{"keys-from", Options{KeysFrom: &endlessKeys{}}},
		{"compare", Options{Keys: 1e15, Compare: decode(t, benchCh3Big)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			o := tc.opts
			o.Config, o.Progress, o.Workers = decode(t, benchCh3), &Progress{}, 2
			cancelAfterProgress(t, o.Progress, cancel)
			res, err := Run(ctx, o)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Run: %v, want context.Canceled", err)
			}
			if res == nil || !res.Partial {
				t.Fatalf("result %+v, want a partial one", res)
			}
			if res.Keys <= 0 || res.Keys >= 1e15 {
				t.Errorf("partial result of %d keys", res.Keys)
			}
			var sum int64
			for _, s := range res.Servers {
				sum += s.Keys
			}
			if sum != res.Keys {
				t.Errorf("servers hold %d keys, want %d (every key on one server)", sum, res.Keys)
			}
			var txt bytes.Buffer
			if err := WriteText(&txt, res); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(txt.String(), "PARTIAL RESULT: interrupted after "+strconv.FormatInt(res.Keys, 10)+" keys") {
				t.Errorf("text report does not say it is partial:\n%s", txt.String())
			}
		})
	}
}

// TestRunCanceledBlockedInput: Ctrl-C while the key input has nothing to
// read (an idle pipe or terminal) stops the run with the keys read so far.
func TestRunCanceledBlockedInput(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// The write returns once the reader has the lines; then
		// nothing comes and the reader blocks.
		pw.Write([]byte("a\nb\nc\n"))
		time.Sleep(10 * time.Millisecond)
		cancel()
	}()
	o := Options{Config: decode(t, benchCh3), KeysFrom: pr}
	res, err := Run(ctx, o)
	if !errors.Is(err, context.Canceled) || res == nil || !res.Partial {
		t.Fatalf("Run = %+v, %v; want a partial result and context.Canceled", res, err)
	}
	if res.Keys > 3 {
		t.Errorf("%d keys, want at most 3", res.Keys)
	}
}

// TestRunKeysFromLines: keys are read line by line, blank lines and CRs
// dropped, whatever the chunking.
func TestRunKeysFromLines(t *testing.T) {
	var in strings.Builder
	want := 0
	for i := range 3*chunkKeys + 17 {
		switch i % 5 {
		case 0:
			in.WriteString("\n")
		case 1:
			in.WriteString("k" + strconv.Itoa(i) + "\r\n")
			want++
		default:
			in.WriteString("k" + strconv.Itoa(i) + "\n")
			want++
		}
	}
	in.WriteString("last") // no final newline
	want++
	res, err := Run(context.Background(), Options{Config: decode(t, benchCh3), KeysFrom: strings.NewReader(in.String())})
	if err != nil {
		t.Fatal(err)
	}
	if res.Keys != int64(want) || res.Partial {
		t.Errorf("simulated %d keys (partial %v), want %d", res.Keys, res.Partial, want)
	}
}

func TestBar(t *testing.T) {
	for _, tc := range []struct {
		done, total int64
		elapsed     time.Duration
		width       int
		want        string
	}{
		{4_500_000, 10_000_000, time.Second, 60, "[#######..........]  45%  4.5M/10M keys  4.5M keys/s  ETA 1s"},
		{10_000_000, 10_000_000, 2 * time.Second, 50, "[##################] 100%  10M/10M keys  5M keys/s"},
		{1500, 0, time.Second, 80, "1.5k keys  1.5k keys/s"},
		{5, 10, time.Second, 20, "50%  5/10 keys  5 keys/s  ETA 1s"[:20]},
	} {
		got := Bar(tc.done, tc.total, tc.elapsed, tc.width)
		if got != tc.want {
			t.Errorf("Bar(%d, %d, %v, %d) = %q, want %q", tc.done, tc.total, tc.elapsed, tc.width, got, tc.want)
		}
		if len([]rune(got)) > tc.width {
			t.Errorf("Bar(%d, %d, %v, %d) is %d columns wide", tc.done, tc.total, tc.elapsed, tc.width, len([]rune(got)))
		}
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1k", 12_345: "12.3k", 1_000_000: "1M", 4_560_000: "4.6M", 100_000_000: "100M", 2_500_000_000: "2.5G"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestIdealMoves: growing a uniform pool from 3 to 4 moves 1/12 of the keys
// from each old server to the new one; a down server's keys go to the
// servers that gain, or nowhere.
func TestIdealMoves(t *testing.T) {
	third, quarter := 1.0/3, 0.25
	got := idealMoves([]float64{third, third, third, 0}, []float64{quarter, quarter, quarter, quarter}, nil)
	if len(got) != 3 {
		t.Fatalf("3 → 4: %v, want 3 pairs", got)
	}
	for i := range int32(3) {
		if v := got[[2]int32{i, 3}]; v < 1.0/12-1e-9 || v > 1.0/12+1e-9 {
			t.Errorf("3 → 4: server %d → new: %v, want 1/12", i, v)
		}
	}
	// Server 1 down without failover: its keys go nowhere; noise in the
	// others' ideal shares does not count.
	got = idealMoves([]float64{100, 100, 100}, []float64{99, 0, 101}, []float64{-1, 120, -1})
	want := map[[2]int32]float64{{1, 2}: 1, {1, none}: 119}
	if len(got) != len(want) || got[[2]int32{1, 2}] != 1 || got[[2]int32{1, none}] != 119 {
		t.Errorf("down: %v, want %v", got, want)
	}
}

// FuzzParsePattern: any pattern either fails with ErrKey or makes valid
// keys no longer than MaxLen says.
func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{"key:{n}", "user:{n:12}:session", "{rand}", "{{x}}{n}", "{n:21}", "{", "}", "a b{n}", "{n:0}", "{n:-1}", "\x00{n}", "{n}{n}{rand}"} {
		f.Add(s, uint64(12345), uint64(7))
	}
	f.Fuzz(func(t *testing.T, s string, n, seed uint64) {
		p, err := ParsePattern(s)
		if err != nil {
			if !errors.Is(err, ErrKey) {
				t.Fatalf("ParsePattern(%q): %v does not wrap ErrKey", s, err)
			}
			return
		}
		k := p.Append(nil, n, seed)
		if len(k) > p.MaxLen(n) {
			t.Fatalf("pattern %q, n %d: key %q is longer than MaxLen %d", s, n, k, p.MaxLen(n))
		}
		if len(k) <= MaxKeyLen {
			if msg := checkKey(k); msg != "" {
				t.Fatalf("pattern %q makes key %q: %s", s, k, msg)
			}
		}
		if p.String() != s {
			t.Fatalf("String() = %q, want %q", p.String(), s)
		}
	})
}

// FuzzKeysFrom: any key file either fails with ErrKey or simulates one key
// per non-blank line, without panicking.
func FuzzKeysFrom(f *testing.F) {
	for _, s := range []string{"a\nb\n", "", "\n\n", "a\r\nb", "a b\n", strings.Repeat("x", 300) + "\n", "k\x00\n", "x\ny"} {
		f.Add([]byte(s))
	}
	cfg := decode(f, benchReplicated)
	f.Fuzz(func(t *testing.T, in []byte) {
		res, err := Run(context.Background(), Options{Config: cfg, KeysFrom: bytes.NewReader(in), Workers: 1})
		if err != nil {
			if !errors.Is(err, ErrKey) {
				t.Fatalf("Run: %v does not wrap ErrKey", err)
			}
			return
		}
		want := int64(0)
		for _, l := range bytes.Split(in, []byte("\n")) {
			if len(bytes.TrimSuffix(l, []byte("\r"))) > 0 {
				want++
			}
		}
		if res.Keys != want {
			t.Fatalf("%d keys simulated, want %d", res.Keys, want)
		}
	})
}
