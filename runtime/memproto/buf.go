package memproto

import (
	"errors"
	"io"
)

// rbuf is the growable read buffer shared by Reader and ReplyReader.
// Unread data is buf[r:w]. Slices of buf handed to callers stay valid until
// the next fill, compact or shrink.
type rbuf struct {
	rd   io.Reader
	buf  []byte
	r, w int
	size int   // initial (and shrink-back) size
	max  int   // the buffer never grows beyond max (if > 0)
	err  error // sticky read error
	// full says that the last read filled the buffer to its end: more
	// data may be waiting to be read.
	full bool
}

// errBufferLimit is returned by fill when a caller asks for more than max;
// the readers' own limits make sure that this does not happen.
var errBufferLimit = errors.New("memproto: buffer limit exceeded")

func (b *rbuf) init(rd io.Reader, size int) {
	if size < 64 {
		size = 64
	}
	b.rd, b.size = rd, size
	b.r, b.w, b.err = 0, 0, nil
	if cap(b.buf) < size {
		b.buf = make([]byte, size)
	}
	b.buf = b.buf[:cap(b.buf)]
}

func (b *rbuf) buffered() int { return b.w - b.r }

// shrink gives back a buffer that grew for a large value once the pending
// data fits in the initial size again.
func (b *rbuf) shrink() {
	if len(b.buf) > 2*b.size && b.w-b.r <= b.size/2 {
		nb := make([]byte, b.size)
		b.w = copy(nb, b.buf[b.r:b.w])
		b.r = 0
		b.buf = nb
	}
}

// fill makes room for need bytes from b.r (growing the buffer up to need
// if necessary) and reads once more. It returns nil if at least one byte was
// read, else the read error (io.EOF at the end of the stream).
func (b *rbuf) fill(need int) error {
	if b.err != nil {
		return b.err
	}
	if need <= b.w-b.r {
		need = b.w - b.r + 1
	}
	if need > len(b.buf)-b.r || b.w == len(b.buf) {
		n := b.w - b.r
		if need > len(b.buf) {
			if b.max > 0 && need > b.max {
				return errBufferLimit
			}
			size := 2 * len(b.buf)
			if b.max > 0 && size > b.max {
				size = b.max
			}
			if size < need {
				size = need
			}
			nb := make([]byte, size)
			copy(nb, b.buf[b.r:b.w])
			b.buf = nb
		} else {
			copy(b.buf, b.buf[b.r:b.w])
		}
		b.r, b.w = 0, n
	}
	for range 100 {
		n, err := b.rd.Read(b.buf[b.w:])
		if n < 0 || n > len(b.buf)-b.w {
			b.err = io.ErrShortBuffer
			return b.err
		}
		b.w += n
		if n > 0 {
			b.full = b.w == len(b.buf)
		}
		if err == ErrWouldBlock {
			// Not sticky: the caller waits for data and calls again.
			if n > 0 {
				return nil
			}
			return err
		}
		if err != nil {
			b.err = err
			if n > 0 {
				return nil
			}
			return err
		}
		if n > 0 {
			return nil
		}
	}
	b.err = io.ErrNoProgress
	return b.err
}

// discard drops up to n buffered bytes and returns how many it dropped.
func (b *rbuf) discard(n int64) int64 {
	avail := int64(b.w - b.r)
	if n >= avail {
		b.r, b.w = 0, 0
		return avail
	}
	b.r += int(n)
	return n
}
