package upstream

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"time"
)

// MaxCommandReply bounds the reply that Command reads.
const MaxCommandReply = 16 << 20

// minCommandTimeout is the least time Command gives the server: stats
// groups such as conns or cachedump can take longer than a get.
const minCommandTimeout = time.Second

var errCommandReply = errors.New("upstream: reply larger than MaxCommandReply")

// Command sends line, a command the route graph does not carry (such as
// "stats slabs"), without its "\r\n", to the server on a connection of its
// own, opened for it and closed afterwards, so that the pipelined
// connections never see a multi-line reply they cannot match. It returns
// the reply up to and including its last line: END, RESET, OK, ERROR, or
// an "ERROR ", CLIENT_ERROR or SERVER_ERROR line. The exchange is bounded
// by the destination's timeout (at least a second) and the reply by
// MaxCommandReply. A TKO destination is not tried.
func (d *Dest) Command(ctx context.Context, line string) ([]byte, error) {
	if d.tko.Load() {
		return nil, errTKO
	}
	dctx, cancel := context.WithTimeout(ctx, d.key.ConnectTimeout)
	nc, err := d.reg.dial(dctx, d.key)
	cancel()
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(max(d.key.Timeout, minCommandTimeout)))
	if _, err := nc.Write([]byte(line + "\r\n")); err != nil {
		return nil, err
	}
	br := bufio.NewReader(nc)
	var out []byte
	start := 0 // of the line being read
	for {
		l, err := br.ReadSlice('\n')
		if len(out)+len(l) > MaxCommandReply {
			return nil, errCommandReply
		}
		out = append(out, l...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return nil, err
		}
		if lastLine(out[start:]) {
			return out, nil
		}
		start = len(out)
	}
}

// lastLine reports whether l (with its "\r\n") ends a reply of memcached
// to a command Command sends.
func lastLine(l []byte) bool {
	l = bytes.TrimRight(l, "\r\n")
	switch string(l) {
	case "END", "RESET", "OK", "ERROR":
		return true
	}
	return bytes.HasPrefix(l, []byte("ERROR ")) ||
		bytes.HasPrefix(l, []byte("CLIENT_ERROR")) ||
		bytes.HasPrefix(l, []byte("SERVER_ERROR"))
}
