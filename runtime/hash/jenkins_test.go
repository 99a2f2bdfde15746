package hash_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/mcroute/mcroute/runtime/hash"
)

// TestSpookyJenkins checks Spooky32 against Bob Jenkins' own SpookyV2 test
// table, which covers every length from 0 to 511 bytes: the short path,
// the 192-byte switch to the long path, several whole 96-byte blocks and
// every remainder length.
func TestSpookyJenkins(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/spooky_jenkins.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf [512]byte
	for i := range buf {
		buf[i] = byte(i + 128)
	}
	rows := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		l, h, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		n, err1 := strconv.Atoi(l)
		want, err2 := strconv.ParseUint(h, 0, 32)
		if err1 != nil || err2 != nil || n > len(buf) {
			t.Fatalf("bad line %q", line)
		}
		if got := hash.Spooky32(buf[:n], 0); uint64(got) != want {
			t.Errorf("len %d: Spooky32 = %#08x, want %#08x", n, got, want)
		}
		rows++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if rows != 512 {
		t.Fatalf("%d rows, want 512", rows)
	}
}
