package routetest

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/mcroute/mcroute/internal/diag"
	"github.com/mcroute/mcroute/runtime/mc"
	"github.com/mcroute/mcroute/schema"
)

// Schema is the CUE schema of test files (#TestFile), as embedded in mcroute.
//
//go:embed testfile.cue
var Schema string

// schemaFile is the name the schema's positions carry.
const schemaFile = "<mcroute>/testfile.cue"

// Diagnostic rules of test files.
const (
	RuleSyntax        = "test-syntax"         // the test file does not parse
	RuleSchema        = "test-schema"         // the test file does not match #TestFile
	RuleInvalid       = "test-invalid"        // a value the schema cannot check (op, reply, destination syntax)
	RuleUnknownServer = "test-unknown-server" // down or miss names a server the config does not have
	RuleConfig        = "test-config"         // the config under test cannot be loaded or built
	RuleUpdate        = "test-update"         // --update cannot rewrite a case
)

// Fields is a set of expectation fields of a case.
type Fields uint8

// The expectation fields.
const (
	FieldDestinations Fields = 1 << iota
	FieldReply
	FieldPath
)

// Names returns the field names of f, in file order.
func (f Fields) Names() []string {
	var out []string
	if f&FieldDestinations != 0 {
		out = append(out, "destinations")
	}
	if f&FieldReply != 0 {
		out = append(out, "reply")
	}
	if f&FieldPath != 0 {
		out = append(out, "path")
	}
	return out
}

// Want are the expectations of a case. Fields says which were given.
type Want struct {
	Fields       Fields
	Destinations []string
	Reply        string
	Path         []string
}

// Case is one route test.
type Case struct {
	// Name is the case's label under cases; Pos is where it is written.
	Name string
	Pos  schema.Pos
	// Op, Key, Down and Miss make the request and its world.
	Op         mc.Op
	Key        string
	Down, Miss []string
	// Want is what must happen.
	Want Want

	downPos, missPos []schema.Pos
}

// Request returns the case's request.
func (c *Case) Request() Request {
	return Request{Op: c.Op, Key: c.Key, Down: c.Down, Miss: c.Miss}
}

// File is a loaded test file.
type File struct {
	// Path is the file's name as given.
	Path string
	// Config is the path of the policy under test (a file or directory),
	// resolved against the test file's directory.
	Config string
	// ConfigPos is where config is written (the file's start if it is not).
	ConfigPos schema.Pos
	// Params, RoutePrefix and HostID configure loading and routing.
	Params      map[string]string
	RoutePrefix string
	HostID      uint32
	// Cases are the file's cases in the order they are written.
	Cases []*Case

	src    []byte
	syntax *ast.File
}

// Load reads and checks a test file. Problems with the file are returned as
// a diag.List with positions in it; an unreadable file is a plain error.
func Load(path string) (*File, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read test file: %w", err)
	}
	return Parse(path, src)
}

// Parse checks a test file's source; path is used for positions and to
// resolve config.
func Parse(path string, src []byte) (*File, error) {
	f := &File{Path: path, src: src, ConfigPos: schema.Pos{File: path, Line: 1, Col: 1}}
	var diags diag.List
	syn, err := parser.ParseFile(path, src, parser.ParseComments)
	if err != nil {
		addCUEErrors(&diags, err, RuleSyntax, cue.Value{}, path)
		return nil, diags
	}
	f.syntax = syn
	ctx := cuecontext.New()
	user := ctx.BuildFile(syn)
	if err := user.Err(); err != nil {
		addCUEErrors(&diags, err, RuleSchema, user, path)
		return nil, diags
	}
	sch := ctx.CompileString(Schema, cue.Filename(schemaFile))
	if err := sch.Err(); err != nil {
		return nil, fmt.Errorf("routetest: embedded schema: %w", err)
	}
	v := sch.LookupPath(cue.ParsePath("#TestFile")).Unify(user)
	if err := v.Validate(cue.Concrete(true)); err != nil {
		addCUEErrors(&diags, err, RuleSchema, user, path)
	}

	f.Config = filepath.Dir(path)
	if c := v.LookupPath(cue.ParsePath("config")); c.Exists() {
		s, _ := c.String()
		f.ConfigPos = posOf(user, cue.ParsePath("config"), path)
		if filepath.IsAbs(s) {
			f.Config = s
		} else {
			f.Config = filepath.Join(filepath.Dir(path), filepath.FromSlash(s))
		}
	}
	if p := v.LookupPath(cue.ParsePath("params")); p.Exists() {
		if err := p.Decode(&f.Params); err != nil {
			addCUEErrors(&diags, err, RuleSchema, user, path)
		}
	}
	if p := v.LookupPath(cue.ParsePath("route_prefix")); p.Exists() {
		f.RoutePrefix, _ = p.String()
	}
	if p := v.LookupPath(cue.ParsePath("host_id")); p.Exists() {
		n, _ := p.Uint64()
		f.HostID = uint32(n)
	}

	// Check and decode each case on its own, so that one case's errors do
	// not hide another's (CUE reports missing fields only when there are
	// no other errors).
	it, err := v.LookupPath(cue.ParsePath("cases")).Fields()
	if err != nil {
		diags.Sort()
		return nil, diags
	}
	for it.Next() {
		name := it.Selector().Unquoted()
		if err := it.Value().Validate(cue.Concrete(true)); err != nil {
			addCUEErrors(&diags, err, RuleSchema, user, path)
			continue
		}
		c, ds := decodeCase(user, it.Value(), name, path)
		diags = append(diags, ds...)
		if c != nil {
			f.Cases = append(f.Cases, c)
		}
	}
	if len(diags) > 0 {
		diags.Sort()
		return nil, diags
	}
	return f, nil
}

// caseJSON is a case as decoded from CUE.
type caseJSON struct {
	Op   string   `json:"op"`
	Key  string   `json:"key"`
	Down []string `json:"down"`
	Miss []string `json:"miss"`
	Want *struct {
		Destinations *[]string `json:"destinations"`
		Reply        *string   `json:"reply"`
		Path         *[]string `json:"path"`
	} `json:"want"`
}

func decodeCase(user, v cue.Value, name, file string) (*Case, diag.List) {
	var diags diag.List
	var cj caseJSON
	if err := v.Decode(&cj); err != nil {
		addCUEErrors(&diags, err, RuleSchema, user, file)
		return nil, diags
	}
	base := cue.MakePath(cue.Str("cases"), cue.Str(name))
	at := func(sels ...cue.Selector) schema.Pos {
		return posOf(user, cue.MakePath(append(base.Selectors(), sels...)...), file)
	}
	c := &Case{Name: name, Pos: at(), Key: cj.Key, Down: cj.Down, Miss: cj.Miss}
	op, err := ParseOp(cj.Op)
	if err != nil {
		diags.Errorf(at(cue.Str("op")), RuleInvalid, "cases.%s.op: %v", name, err)
	}
	c.Op = op
	for i := range c.Down {
		c.downPos = append(c.downPos, at(cue.Str("down"), cue.Index(i)))
	}
	for i := range c.Miss {
		c.missPos = append(c.missPos, at(cue.Str("miss"), cue.Index(i)))
	}
	if w := cj.Want; w != nil {
		if w.Destinations != nil {
			c.Want.Fields |= FieldDestinations
			c.Want.Destinations = *w.Destinations
			for i, d := range c.Want.Destinations {
				if err := checkDestination(d); err != nil {
					diags.Errorf(at(cue.Str("want"), cue.Str("destinations"), cue.Index(i)), RuleInvalid,
						"cases.%s.want.destinations.%d: %v", name, i, err)
				}
			}
		}
		if w.Reply != nil {
			c.Want.Fields |= FieldReply
			c.Want.Reply = *w.Reply
			if r, ok := mc.ParseResult(c.Want.Reply); !ok || r.String() != c.Want.Reply {
				diags.Errorf(at(cue.Str("want"), cue.Str("reply")), RuleInvalid,
					"cases.%s.want.reply: unknown reply %q; valid replies: %s", name, c.Want.Reply, strings.Join(resultNames(), ", "))
			}
		}
		if w.Path != nil {
			c.Want.Fields |= FieldPath
			c.Want.Path = *w.Path
		}
	}
	return c, diags
}

var slotRE = regexp.MustCompile(`^(.+?\[[0-9]+\])(?: (.*))?$`)

// checkDestination checks the syntax of an expected destination:
// "pool[index] [host:port] [op] [(background)]", single spaces.
func checkDestination(s string) error {
	bad := fmt.Errorf("destination %q: want \"pool[index] host:port\" or \"pool[index]\", then the operation if it is not the request's and \"(background)\" for background sends", s)
	m := slotRE.FindStringSubmatch(s)
	if m == nil {
		return bad
	}
	rest := m[2]
	if rest == "" {
		if strings.HasSuffix(s, " ") {
			return bad
		}
		return nil
	}
	toks := strings.Split(rest, " ")
	i := 0
	if i < len(toks) && strings.Contains(toks[i], ":") {
		i++
	}
	if i < len(toks) {
		if _, ok := mc.ParseOp(toks[i]); ok {
			i++
		}
	}
	if i < len(toks) && toks[i] == "(background)" {
		i++
	}
	if i != len(toks) {
		return bad
	}
	return nil
}

// hasAddr reports whether an expected destination names the server's
// address.
func hasAddr(want string) bool {
	m := slotRE.FindStringSubmatch(want)
	if m == nil || m[2] == "" {
		return false
	}
	tok, _, _ := strings.Cut(m[2], " ")
	return strings.Contains(tok, ":")
}

// posOf returns the position of the value at p in the user's file, or of
// its nearest ancestor that has one.
func posOf(user cue.Value, p cue.Path, file string) schema.Pos {
	sels := p.Selectors()
	for n := len(sels); n >= 0; n-- {
		v := user.LookupPath(cue.MakePath(sels[:n]...))
		if !v.Exists() {
			continue
		}
		if pos := toPos(v.Pos()); pos.IsValid() && pos.File != schemaFile {
			return pos
		}
	}
	return schema.Pos{File: file, Line: 1, Col: 1}
}

func toPos(p token.Pos) schema.Pos {
	if !p.IsValid() {
		return schema.Pos{}
	}
	return schema.Pos{File: p.Filename(), Line: p.Line(), Col: p.Column()}
}

// addCUEErrors adds CUE errors as diagnostics, each at its first position in
// the user's file; user (if it exists) gives positions for errors that have
// none there, such as missing required fields.
func addCUEErrors(l *diag.List, err error, rule string, user cue.Value, file string) {
	for _, e := range cueerrors.Errors(err) {
		path := e.Path()
		if len(path) > 0 && strings.HasPrefix(path[0], "#") {
			path = path[1:]
		}
		var pos schema.Pos
		for _, p := range cueerrors.Positions(e) {
			if sp := toPos(p); sp.IsValid() && sp.File != schemaFile {
				pos = sp
				break
			}
		}
		if !pos.IsValid() && user.Exists() {
			pos = posOf(user, selectorPath(path), file)
		}
		if !pos.IsValid() {
			pos = schema.Pos{File: file}
		}
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		if len(path) > 0 {
			msg = strings.Join(path, ".") + ": " + msg
		}
		l.Errorf(pos, rule, "%s", msg)
	}
}

func selectorPath(labels []string) cue.Path {
	var sels []cue.Selector
	for _, s := range labels {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			sels = append(sels, cue.Index(n))
			continue
		}
		if u, err := strconv.Unquote(s); err == nil {
			s = u
		}
		sels = append(sels, cue.Str(s))
	}
	return cue.MakePath(sels...)
}
