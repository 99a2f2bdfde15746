package jsonm

import (
	"errors"
	"fmt"
	"strings"
)

// ErrLimit is wrapped by the errors Expand returns when it stops because a
// work limit (Options.MaxNodes or Options.MaxSteps) was exceeded. Such
// errors are never replaced by an @import default.
var ErrLimit = errors.New("jsonm: expansion limit exceeded")

// Error is one positioned expansion error.
//
// Pos is the position of the text being expanded when the error happened:
// the string or object that makes the failing call, or the failing literal.
// For an error inside a macro body, a var, a const or an imported file, Pos
// points into that body, and Stack lists, innermost first, the places that
// led there (the call of the macro, the reference to the const, the
// @import, ...).
type Error struct {
	Pos   Pos     // where the error happened
	Msg   string  // the message, without position
	Stack []Frame // how expansion got there, innermost first
	// Err is the underlying cause, if any (for example the *SyntaxError of an
	// imported file or the error returned by Options.Import).
	Err error
}

// Frame is one step of an Error's expansion stack.
type Frame struct {
	Pos  Pos    // the call, reference or @import
	What string // e.g. "in macro 'foo'", "in const 'bar'", "in @import 'x.json'"
}

// Error returns "pos: msg" followed by one indented line per stack frame;
// runs of identical frames (recursion) are shown once with a count.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	b.WriteString(": ")
	b.WriteString(e.Msg)
	for i := 0; i < len(e.Stack); {
		f := e.Stack[i]
		n := 1
		for i+n < len(e.Stack) && e.Stack[i+n] == f {
			n++
		}
		b.WriteString("\n\t")
		b.WriteString(f.Pos.String())
		b.WriteString(": ")
		b.WriteString(f.What)
		if n > 1 {
			fmt.Fprintf(&b, " (%d times)", n)
		}
		i += n
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrorList is the error type returned by Expand: one or more *Error, in the
// order they were found.
type ErrorList []*Error

// Error joins the messages of all errors with newlines.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the errors of the list, for errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// errorf makes an *Error at pos.
func errorf(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// wrapErr makes an *Error at pos whose cause is err.
func wrapErr(pos Pos, err error, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Pos: pos, Msg: msg + ": " + err.Error(), Err: err}
}

// addFrame adds a stack frame to err (an *Error) and returns it. A frame at
// the position the error already points to adds nothing and is left out.
func addFrame(err error, pos Pos, format string, args ...any) error {
	var e *Error
	if errors.As(err, &e) {
		last := e.Pos
		if n := len(e.Stack); n > 0 {
			last = e.Stack[n-1].Pos
		}
		if pos == last && pos.IsValid() {
			return e
		}
		if len(e.Stack) < maxStack {
			e.Stack = append(e.Stack, Frame{Pos: pos, What: fmt.Sprintf(format, args...)})
		}
		return e
	}
	return &Error{Pos: pos, Msg: err.Error(), Err: err}
}

// maxStack bounds the number of frames kept per error.
const maxStack = 64

func isLimit(err error) bool { return errors.Is(err, ErrLimit) }
