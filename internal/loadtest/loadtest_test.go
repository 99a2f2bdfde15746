package loadtest_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcroute/mcroute/internal/loadtest"
	"github.com/mcroute/mcroute/internal/memcachedtest"
)

// fakeServer answers set and get like memcached, except that answer may
// replace a get's value: it gets the key, the stored value and the number
// of the get on this connection, and returns the value to send ("" for a
// miss, serverError for an error line).
func fakeServer(t *testing.T, answer func(key, stored string, n int) string) string {
	return memcachedtest.Fake(t, func(_ int, c net.Conn, r *bufio.Reader) {
		store := map[string]string{}
		gets := 0
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			f := strings.Fields(line)
			switch {
			case len(f) == 5 && f[0] == "set":
				data, _ := r.ReadString('\n')
				store[f[1]] = strings.TrimSuffix(data, "\r\n")
				c.Write([]byte("STORED\r\n"))
			case len(f) == 2 && f[0] == "get":
				gets++
				switch v := answer(f[1], store[f[1]], gets); v {
				case "":
					c.Write([]byte("END\r\n"))
				case serverError:
					c.Write([]byte("SERVER_ERROR out of luck\r\n"))
				default:
					fmt.Fprintf(c, "VALUE %s 0 %d\r\n%s\r\nEND\r\n", f[1], len(v), v)
				}
			default:
				c.Write([]byte("ERROR\r\n"))
			}
		}
	})
}

const serverError = "\x00error"

func run(t *testing.T, answer func(key, stored string, n int) string) loadtest.Counts {
	addr := fakeServer(t, answer)
	l := loadtest.Start(t, "tcp", addr, 2)
	deadline := time.Now().Add(5 * time.Second)
	for l.Counts().Answered < 2000 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return l.Stop(t, t.Name())
}

func TestCorrectServer(t *testing.T) {
	c := run(t, func(_, stored string, _ int) string { return stored })
	if c.Sent == 0 || c.Sent != c.Answered || c.Lost+c.FailedSets+c.FailedGets+c.Misses+c.Stale+c.Wrong != 0 {
		t.Errorf("a correct server: %s", c)
	}
}

// TestClassification: a value from another client or another key is
// wrong, an older value of the same key is stale, END is a miss, an error
// line a failed get.
func TestClassification(t *testing.T) {
	var mu sync.Mutex
	first := map[string]string{} // each client's first value of its key 0
	c := run(t, func(key, stored string, n int) string {
		mu.Lock()
		defer mu.Unlock()
		switch n {
		case 1:
			first[key] = stored
			return stored
		case 65: // key 0 again, one round later
			return first[key]
		case 10:
			return "v99-9" // another client's value
		case 11:
			return "v0-3" // this client's value of another key, or another client's
		case 12:
			return ""
		case 13:
			return serverError
		}
		return stored
	})
	if c.Stale != 2 || c.Misses != 2 || c.Wrong != 4 || c.FailedGets != 2 || c.Sent != c.Answered {
		t.Errorf("two clients, each with one stale value, one miss, two wrong values and a failed get: %s", c)
	}
}
