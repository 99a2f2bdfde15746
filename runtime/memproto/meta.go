package memproto

import (
	"bytes"
	"math"

	"github.com/mcroute/mcroute/runtime/mc"
)

// metaErr identifies the error string memcached's _meta_flag_preparse
// leaves behind.
type metaErr uint8

const (
	metaErrNone metaErr = iota
	metaErrFormat
	metaErrDuplicate
	metaErrInvalid
	metaErrToken
	metaErrDecode
	metaErrMLength
	metaErrInitial
	metaErrDelta
)

// metaFlags is the outcome of preparsing meta flag tokens.
type metaFlags struct {
	quiet, b         bool
	hasT, hasC, hasD bool
	mode             byte
	exptime          int32
	flags            uint32
	cas, delta       uint64
	opaqueTooLong    bool
	hasError         bool
	err              metaErr
	key              []byte // decoded key when b is set
}

// preparse checks the flag tokens toks[start:n] like memcached's
// _meta_flag_preparse, which all meta commands share, accepting in addition
// the flags newer memcached versions know (E, x, S), which are passed
// through to the backend.
func (r *Reader) preparse(start, n int, f *metaFlags) {
	var seen [127]bool
	f.key = r.toks[1]
	for i := start; i < n; i++ {
		tok := r.toks[i]
		o := tok[0]
		if o >= 127 || seen[o] {
			f.hasError, f.err = true, metaErrDuplicate
			return
		}
		seen[o] = true
		arg := tok[1:]
		switch o {
		case 'b':
			key, ok := b64decode(r.scratch[:0], r.toks[1])
			r.scratch = key
			if !ok {
				f.hasError, f.err = true, metaErrDecode
			}
			f.key, f.b = key, true
		case 'N', 'R':
			if _, ok := cstrtol(arg); !ok {
				f.hasError, f.err = true, metaErrToken
			}
		case 'T':
			v, ok := cstrtol(arg)
			if !ok {
				f.hasError, f.err = true, metaErrToken
			}
			f.exptime, f.hasT = v, true
		case 'l', 'O', 'P', 'L', 'k', 's', 't', 'c', 'f', 'v', 'h', 'u', 'I', 'x', 'S':
			if o == 'O' && len(tok) > maxOpaqueLen {
				f.opaqueTooLong = true
			}
		case 'q':
			f.quiet = true
		case 'F':
			v, ok := cstrtoul(arg)
			if !ok {
				f.hasError = true // memcached leaves the error string alone
			}
			f.flags = v
		case 'C', 'E':
			v, ok := cstrtoull(arg)
			if !ok {
				f.hasError, f.err = true, metaErrToken
			}
			if o == 'C' {
				f.cas, f.hasC = v, true
			}
		case 'M':
			if len(tok) != 2 {
				f.hasError, f.err = true, metaErrMLength
			} else {
				f.mode = tok[1]
			}
		case 'J':
			if _, ok := cstrtoull(arg); !ok {
				f.hasError, f.err = true, metaErrInitial
			}
		case 'D':
			v, ok := cstrtoull(arg)
			if !ok {
				f.hasError, f.err = true, metaErrDelta
			}
			f.delta, f.hasD = v, true
		default:
			f.hasError, f.err = true, metaErrInvalid
			return
		}
	}
}

func (f *metaFlags) errorReply() *ProtocolError {
	if f.err == metaErrNone {
		return metaErrs[metaErrFormat]
	}
	return metaErrs[f.err]
}

// parseMeta parses mg, ms, md, ma, mn and me like memcached 1.6's
// process_m*_command.
func (r *Reader) parseMeta(line []byte, n int, cmd *Command) (int, *ProtocolError) {
	letter := r.toks[0][1]
	switch letter {
	case 'n':
		cmd.Op, cmd.Meta = mc.OpNoop, 'n'
		return -1, nil
	case 'e':
		if n < 2 || len(r.toks[1]) > MaxKeyLength {
			return -1, errMetaBadFormat
		}
		if n >= 3 && len(r.toks[2]) == 1 && r.toks[2][0] == 'b' {
			if _, ok := b64decode(r.scratch[:0], r.toks[1]); !ok {
				return -1, errMetaBadFormat
			}
		}
		return -1, errMetaDebugMiss
	case 'g', 's', 'd', 'a':
	default:
		return -1, errUnknownCommand.shown
	}
	if n < 2 {
		return -1, errUnknownCommand.shown
	}
	if len(r.toks[1]) > MaxKeyLength {
		if letter == 's' && n > 2 {
			// Skip the data block (see rejectBlock).
			return -1, r.rejectBlock(r.toks[2], errMetaKeyTooLong)
		}
		return -1, errMetaKeyTooLong
	}
	start := 2
	vlen := int32(-1)
	if letter == 's' {
		if n == 2 {
			return -1, errMetaBadFormat
		}
	}
	if n+1 > maxMetaTokens {
		if letter == 'g' {
			return -1, errMgFlagsTooLong
		}
		if letter == 's' {
			return -1, r.rejectBlock(r.toks[2], errFlagsTooLong)
		}
		return -1, errFlagsTooLong
	}
	if letter == 's' {
		v, ok := cstrtol(r.toks[2])
		if !ok || v < 0 || v > math.MaxInt32-2 {
			return -1, errMetaBadFormat
		}
		vlen, start = v, 3
	}
	var f metaFlags
	r.preparse(start, n, &f)
	cmd.Meta = letter
	cmd.NoReply = f.quiet
	cmd.Flags = f.flags
	cmd.Exptime = int64(f.exptime)
	cmd.CAS = f.cas
	cmd.Delta = f.delta
	if start < n {
		cmd.MetaFlags = line[r.tokOff[start] : r.tokOff[n-1]+len(r.toks[n-1])]
	}
	switch letter {
	case 'g':
		if f.hasError {
			return -1, f.errorReply()
		}
		if f.opaqueTooLong {
			return -1, errOpaqueTooLong
		}
		cmd.Op = mc.OpGet
	case 's':
		swallow := func(e *ProtocolError) (int, *ProtocolError) {
			r.swallow = int64(vlen) + 2
			return -1, e
		}
		if f.hasError {
			return swallow(f.errorReply())
		}
		switch f.mode {
		case 0, 'S':
			cmd.Op = mc.OpSet
		case 'E':
			cmd.Op = mc.OpAdd
		case 'A':
			cmd.Op = mc.OpAppend
		case 'P':
			cmd.Op = mc.OpPrepend
		case 'R':
			cmd.Op = mc.OpReplace
		default:
			return swallow(errBadMsMode)
		}
		if f.opaqueTooLong {
			return swallow(errOpaqueTooLong)
		}
		if f.hasC && (cmd.Op == mc.OpSet || cmd.Op == mc.OpReplace) {
			cmd.Op = mc.OpCas
		}
		if r.tooLarge(len(f.key), f.flags, vlen) {
			return swallow(invalidate(errMetaTooLarge, 'd', f.b, f.key))
		}
	case 'd':
		if f.hasError {
			return -1, errInvalidOrDup
		}
		if f.opaqueTooLong {
			return -1, errOpaqueTooLong
		}
		cmd.Op = mc.OpDelete
	case 'a':
		if f.hasError {
			return -1, errInvalidOrDup
		}
		switch f.mode {
		case 0, 'I', '+':
			cmd.Op = mc.OpIncr
		case 'D', '-':
			cmd.Op = mc.OpDecr
		default:
			return -1, errBadMaMode
		}
		if f.opaqueTooLong {
			return -1, errOpaqueTooLong
		}
		if !f.hasD {
			cmd.Delta = 1
		}
	}
	r.keys = append(r.keys[:0], f.key)
	cmd.Keys = r.keys
	if letter == 's' {
		return int(vlen) + 2, nil
	}
	return -1, nil
}

// nextToken returns the first space-separated token of b and the rest.
func nextToken(b []byte) (tok, rest []byte) {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	if j := bytes.IndexByte(b, ' '); j >= 0 {
		return b[:j], b[j:]
	}
	return b, nil
}

// findFlag returns the first token of flags starting with c, or nil.
func findFlag(flags []byte, c byte) []byte {
	for len(flags) > 0 {
		var tok []byte
		tok, flags = nextToken(flags)
		if len(tok) > 0 && tok[0] == c {
			return tok
		}
	}
	return nil
}

// hasFlag reports whether flags holds a token starting with c.
func hasFlag(flags []byte, c byte) bool { return findFlag(flags, c) != nil }
