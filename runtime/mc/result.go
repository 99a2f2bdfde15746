package mc

// Result is the outcome of a request, with mcrouter's mc_res_* meaning.
// ResUnknown is the zero value.
type Result uint8

// The results, in mcrouter's order.
const (
	ResUnknown Result = iota
	ResDeleted
	ResTouched
	ResFound
	ResFoundStale
	ResNotFound
	ResNotFoundHot
	ResNotStored
	ResStaleStored
	ResOK
	ResStored
	ResExists
	ResOOO
	ResTimeout
	ResConnectTimeout
	ResConnectError
	ResBusy
	ResTryAgain
	ResShutdown
	ResTko
	ResBadCommand
	ResBadKey
	ResBadFlags
	ResBadExptime
	ResBadLeaseID
	ResBadCasID
	ResBadValue
	ResAborted
	ResClientError
	ResLocalError
	ResRemoteError
	ResWaiting
	ResDeadlineExceeded
	ResPermissionDenied

	numResults
)

var resultNames = [numResults]string{
	ResUnknown:          "unknown",
	ResDeleted:          "deleted",
	ResTouched:          "touched",
	ResFound:            "found",
	ResFoundStale:       "foundstale",
	ResNotFound:         "notfound",
	ResNotFoundHot:      "notfoundhot",
	ResNotStored:        "notstored",
	ResStaleStored:      "stalestored",
	ResOK:               "ok",
	ResStored:           "stored",
	ResExists:           "exists",
	ResOOO:              "ooo",
	ResTimeout:          "timeout",
	ResConnectTimeout:   "connect_timeout",
	ResConnectError:     "connect_error",
	ResBusy:             "busy",
	ResTryAgain:         "try_again",
	ResShutdown:         "shutdown",
	ResTko:              "tko",
	ResBadCommand:       "bad_command",
	ResBadKey:           "bad_key",
	ResBadFlags:         "bad_flags",
	ResBadExptime:       "bad_exptime",
	ResBadLeaseID:       "bad_lease_id",
	ResBadCasID:         "bad_cas_id",
	ResBadValue:         "bad_value",
	ResAborted:          "aborted",
	ResClientError:      "client_error",
	ResLocalError:       "local_error",
	ResRemoteError:      "remote_error",
	ResWaiting:          "waiting",
	ResDeadlineExceeded: "deadline_exceeded",
	ResPermissionDenied: "permission_denied",
}

// String returns the result's name without mcrouter's "mc_res_" prefix, as
// failover_errors and exclude_errors spell it ("timeout", "connect_error").
func (r Result) String() string {
	if r < numResults {
		return resultNames[r]
	}
	return "unknown"
}

// FullName returns mcrouter's full name, e.g. "mc_res_local_error", as
// ErrorRoute's result option spells it.
func (r Result) FullName() string { return "mc_res_" + r.String() }

// AllResults lists every result in mcrouter's order.
func AllResults() []Result {
	out := make([]Result, 0, numResults)
	for r := ResUnknown; r < numResults; r++ {
		out = append(out, r)
	}
	return out
}

// ParseResult accepts a result name with or without the "mc_res_" prefix.
func ParseResult(name string) (Result, bool) {
	if len(name) > 7 && name[:7] == "mc_res_" {
		name = name[7:]
	}
	for r, n := range resultNames {
		if n == name {
			return Result(r), true
		}
	}
	return ResUnknown, false
}

// Severity ranks results for the "worst reply" logic of AllSyncRoute and
// the tie-break of AllMajorityRoute: a higher number is worse. It is
// mcrouter's resultSeverity, including its quirks (touched ranks with the
// unclassified results).
func (r Result) Severity() int {
	switch r {
	case ResOK, ResStored, ResStaleStored, ResExists, ResDeleted, ResFound:
		return 1
	case ResWaiting:
		return 2
	case ResNotFound, ResNotStored:
		return 4
	case ResOOO, ResTimeout, ResConnectTimeout, ResConnectError, ResBusy,
		ResShutdown, ResTryAgain, ResTko:
		return 5
	case ResBadKey, ResBadValue, ResAborted, ResDeadlineExceeded:
		return 6
	case ResRemoteError, ResUnknown:
		return 7
	case ResLocalError:
		return 8
	case ResClientError:
		return 9
	}
	return 10
}

// WorseThan reports whether r is a worse result than o (mcrouter's
// worseThan: higher severity, ties broken by the larger enum value).
func (r Result) WorseThan(o Result) bool {
	rs, os := r.Severity(), o.Severity()
	if rs != os {
		return rs > os
	}
	return r > o
}

// IsFailoverError reports whether r is in mcrouter's default set of errors
// that make failover routes try the next child: busy, shutdown, tko,
// try_again, local_error, connect_error, connect_timeout, timeout,
// remote_error and deadline_exceeded.
func (r Result) IsFailoverError() bool {
	switch r {
	case ResBusy, ResShutdown, ResTko, ResTryAgain, ResLocalError,
		ResConnectError, ResConnectTimeout, ResTimeout, ResRemoteError,
		ResDeadlineExceeded:
		return true
	}
	return false
}

// IsError reports whether r is an error of any kind (as opposed to a hit, a
// miss, or a definite answer such as NOT_STORED or EXISTS).
func (r Result) IsError() bool {
	switch r {
	case ResUnknown, ResOOO, ResTimeout, ResConnectTimeout, ResConnectError,
		ResBusy, ResTryAgain, ResShutdown, ResTko, ResBadCommand, ResBadKey,
		ResBadFlags, ResBadExptime, ResBadLeaseID, ResBadCasID, ResBadValue,
		ResAborted, ResClientError, ResLocalError, ResRemoteError,
		ResDeadlineExceeded, ResPermissionDenied:
		return true
	}
	return false
}

// IsHit reports whether r is what MissFailoverRoute stops at: found,
// deleted, touched or ok.
func (r Result) IsHit() bool {
	switch r {
	case ResFound, ResDeleted, ResTouched, ResOK:
		return true
	}
	return false
}

// IsMiss reports whether r means the key was not there.
func (r Result) IsMiss() bool {
	return r == ResNotFound || r == ResNotFoundHot
}

// IsTkoLike reports whether r marks a destination as unusable right now
// (tko), which failover policies do not count as a try.
func (r Result) IsTkoLike() bool { return r == ResTko }

// errorText is what the ASCII protocol prints after "SERVER_ERROR " when a
// reply carries no message of its own.
var errorText = map[Result]string{
	ResTimeout:          "timeout",
	ResConnectTimeout:   "connection timeout",
	ResConnectError:     "connection error",
	ResBusy:             "307 busy",
	ResTryAgain:         "302 try again",
	ResShutdown:         "301 shutdown",
	ResTko:              "unavailable",
	ResLocalError:       "local error",
	ResRemoteError:      "remote error",
	ResDeadlineExceeded: "request deadline exceeded",
	ResAborted:          "aborted",
	ResOOO:              "out of order",
	ResUnknown:          "unknown error",
	ResPermissionDenied: "permission denied",
}

// ErrorText returns mcrouter's default ASCII error text for r (the part after
// "SERVER_ERROR "), e.g. "unavailable" for tko.
func (r Result) ErrorText() string {
	if s, ok := errorText[r]; ok {
		return s
	}
	return r.String()
}
