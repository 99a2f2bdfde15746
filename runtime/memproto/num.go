package memproto

import "strconv"

// Numbers on client command lines are parsed the way memcached's
// safe_strto* helpers parse them with C's strto* functions: leading white
// space and a sign are accepted, the digits may be followed by white space
// and anything after it, an out-of-range value for the 64-bit C type is an
// error, and the result is then truncated to the field's width.

// isCSpace reports whether c is white space for C's isspace.
func isCSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

// cscan scans tok like strtoull/strtoll: it returns the sign, the
// magnitude, and whether the scan succeeded (digits were found, the
// magnitude fits in 64 bits, and they are followed by the end of the token
// or white space).
func cscan(tok []byte) (neg bool, mag uint64, ok bool) {
	i := 0
	for i < len(tok) && isCSpace(tok[i]) {
		i++
	}
	if i < len(tok) && (tok[i] == '+' || tok[i] == '-') {
		neg = tok[i] == '-'
		i++
	}
	start := i
	overflow := false
	for ; i < len(tok) && tok[i] >= '0' && tok[i] <= '9'; i++ {
		d := uint64(tok[i] - '0')
		if mag > (1<<64-1-d)/10 {
			overflow = true
		}
		mag = mag*10 + d
	}
	if i == start || overflow {
		return false, 0, false
	}
	if i < len(tok) && !isCSpace(tok[i]) {
		return false, 0, false
	}
	return neg, mag, true
}

// cstrtoll is safe_strtoll: a signed 64-bit value.
func cstrtoll(tok []byte) (int64, bool) {
	neg, mag, ok := cscan(tok)
	if !ok {
		return 0, false
	}
	if neg {
		if mag > 1<<63 {
			return 0, false
		}
		return -int64(mag), true
	}
	if mag > 1<<63-1 {
		return 0, false
	}
	return int64(mag), true
}

// cstrtol is safe_strtol: strtol on a 64-bit long, stored into an int32.
func cstrtol(tok []byte) (int32, bool) {
	v, ok := cstrtoll(tok)
	return int32(v), ok
}

// cstrtoull is safe_strtoull: strtoull, rejecting values that are negative
// as signed numbers when the token holds a minus sign.
func cstrtoull(tok []byte) (uint64, bool) {
	neg, mag, ok := cscan(tok)
	if !ok {
		return 0, false
	}
	v := mag
	if neg {
		v = -mag
	}
	if int64(v) < 0 && hasByte(tok, '-') {
		return 0, false
	}
	return v, true
}

// cstrtoul is safe_strtoul: like cstrtoull, stored into a uint32.
func cstrtoul(tok []byte) (uint32, bool) {
	v, ok := cstrtoull(tok)
	return uint32(v), ok
}

func hasByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// parseDec parses a strict unsigned decimal (backend replies).
func parseDec(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

func appendUint(dst []byte, v uint64) []byte { return strconv.AppendUint(dst, v, 10) }
func appendInt(dst []byte, v int64) []byte   { return strconv.AppendInt(dst, v, 10) }

// base64 as memcached implements it (RFC 1341 decoder by Jouni Malinen):
// characters outside the alphabet are skipped, the number of alphabet
// characters ('=' included) must be a non-zero multiple of four, and
// decoding stops after the first group that holds padding.

const b64alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

var b64dec = func() (t [256]byte) {
	for i := range t {
		t[i] = 0x80
	}
	for i := 0; i < len(b64alphabet); i++ {
		t[b64alphabet[i]] = byte(i)
	}
	t['='] = 0
	return t
}()

// b64decode appends the decoding of src to dst; ok is false when memcached
// would fail to decode it.
func b64decode(dst, src []byte) (out []byte, ok bool) {
	count := 0
	for _, c := range src {
		if b64dec[c] != 0x80 {
			count++
		}
	}
	if count == 0 || count%4 != 0 {
		return dst, false
	}
	start := len(dst)
	var block [4]byte
	n, pad := 0, 0
	for _, c := range src {
		t := b64dec[c]
		if t == 0x80 {
			continue
		}
		if c == '=' {
			pad++
		}
		block[n] = t
		n++
		if n < 4 {
			continue
		}
		dst = append(dst, block[0]<<2|block[1]>>4, block[1]<<4|block[2]>>2, block[2]<<6|block[3])
		n = 0
		if pad > 0 {
			switch pad {
			case 1:
				dst = dst[:len(dst)-1]
			case 2:
				dst = dst[:len(dst)-2]
			default:
				return dst[:start], false
			}
			break
		}
	}
	return dst, len(dst) > start
}

// b64encode appends the standard padded base64 encoding of src to dst.
func b64encode(dst, src []byte) []byte {
	for len(src) >= 3 {
		dst = append(dst,
			b64alphabet[src[0]>>2],
			b64alphabet[(src[0]&3)<<4|src[1]>>4],
			b64alphabet[(src[1]&0xf)<<2|src[2]>>6],
			b64alphabet[src[2]&0x3f])
		src = src[3:]
	}
	switch len(src) {
	case 1:
		dst = append(dst, b64alphabet[src[0]>>2], b64alphabet[(src[0]&3)<<4], '=', '=')
	case 2:
		dst = append(dst, b64alphabet[src[0]>>2], b64alphabet[(src[0]&3)<<4|src[1]>>4], b64alphabet[(src[1]&0xf)<<2], '=')
	}
	return dst
}
