// Package memproto implements the memcached text protocol, classic and meta,
// in both directions, as memcached 1.6 speaks it.
//
// Server side (the proxy's clients):
//
//   - [Reader] reads client commands into a [Command] with
//     [Reader.ReadCommand], reproducing memcached 1.6's parser (verified
//     against memcached 1.6.18), quirks included: tokens are separated by
//     spaces only, a line may end in "\n" or "\r\n", a NUL byte ends the line
//     early, keys may hold any other byte (control characters too) up to 250
//     bytes, numbers are parsed like C's strtol (leading white space, a sign,
//     32-bit values wrap), a line of more than 2048 bytes without a newline
//     closes the connection unless it is a get/gets, "noreply" suppresses
//     even the error replies of classic commands (meta errors are always
//     sent), a data block not followed by "\r\n" is "CLIENT_ERROR bad data
//     chunk", and an item over the size limit is answered with
//     "SERVER_ERROR object too large for cache" once its data has been
//     skipped. Every rejected input is a [*ProtocolError] that says what to
//     answer and whether to close the connection.
//   - [AppendReply], [AppendEnd] and friends write replies as memcached
//     does, including the meta "q" suppression rules and the echo of the
//     "O" opaque and "k" key return flags.
//
// Client side (the proxy's memcached backends):
//
//   - [AppendRequest] serializes an [mc.Request] in the protocol family the
//     client used (classic or meta), never asking for noreply/quiet mode so
//     that replies can be matched in order.
//   - [ReplyReader] reads exactly one reply per request with
//     [ReplyReader.ReadReply]; any error it returns means the connection is
//     out of sync and must be closed.
//
// The binary protocol, server side: [Reader.Binary] tells a binary client
// by its first byte, [Reader.ReadBinary] reads its requests into a
// [BinaryRequest] (memcached 1.6's length rules, values over MaxItemSize
// skipped), and [AppendBinary] and friends write responses. Translating
// binary requests into routable ones is the proxy's job.
//
// Buffer ownership: both readers own a growable buffer. Byte slices they
// hand out (keys, values, flags) alias that buffer and are valid only until
// the next call on the same reader; copy them (or use mc.Request.Clone) to
// keep them. The Append functions never retain their arguments.
//
// The steady-state hot paths (a single-key get through ReadCommand, a hit
// through AppendReply, AppendRequest, a hit through ReadReply) do not
// allocate.
package memproto
