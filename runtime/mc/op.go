// Package mc is the vocabulary shared by the protocol reader, the route graph
// and the upstream connections: operations, results, requests and replies,
// named and classified as mcrouter names and classifies them.
//
// The package has no dependencies and no behaviour beyond classification, so
// every layer of the proxy can import it.
package mc

// Op is a memcached operation. Routable operations carry the names mcrouter
// uses in operation_policies and __mcrouter__.route(OP,KEY); the rest are
// answered by the proxy itself.
type Op uint8

// The operations. OpUnknown is the zero value.
const (
	OpUnknown Op = iota
	OpGet
	OpGets
	OpSet
	OpAdd
	OpReplace
	OpAppend
	OpPrepend
	OpCas
	OpDelete
	OpIncr
	OpDecr
	OpTouch
	OpGat
	OpGats
	OpMetaget
	OpLeaseGet
	OpLeaseSet
	OpFlushAll
	OpFlushRe

	// Operations below are not routable: the proxy answers them.
	OpVersion
	OpStats
	OpQuit
	OpVerbosity
	OpNoop // meta "mn"
	OpShutdown

	numOps
)

var opNames = [numOps]string{
	OpUnknown:   "unknown",
	OpGet:       "get",
	OpGets:      "gets",
	OpSet:       "set",
	OpAdd:       "add",
	OpReplace:   "replace",
	OpAppend:    "append",
	OpPrepend:   "prepend",
	OpCas:       "cas",
	OpDelete:    "delete",
	OpIncr:      "incr",
	OpDecr:      "decr",
	OpTouch:     "touch",
	OpGat:       "gat",
	OpGats:      "gats",
	OpMetaget:   "metaget",
	OpLeaseGet:  "lease-get",
	OpLeaseSet:  "lease-set",
	OpFlushAll:  "flushall",
	OpFlushRe:   "flushre",
	OpVersion:   "version",
	OpStats:     "stats",
	OpQuit:      "quit",
	OpVerbosity: "verbosity",
	OpNoop:      "noop",
	OpShutdown:  "shutdown",
}

// String returns mcrouter's name of the operation ("get", "lease-get", ...).
func (o Op) String() string {
	if o < numOps {
		return opNames[o]
	}
	return "unknown"
}

// RoutableOps lists, in mcrouter's order, the operations a route graph can
// be asked to route: the valid keys of OperationSelectorRoute's
// operation_policies and the valid OP of __mcrouter__.route(OP,KEY).
var RoutableOps = []Op{
	OpGet, OpGets, OpSet, OpAdd, OpReplace, OpAppend, OpPrepend, OpCas,
	OpDelete, OpIncr, OpDecr, OpTouch, OpGat, OpGats, OpMetaget,
	OpLeaseGet, OpLeaseSet, OpFlushAll, OpFlushRe,
}

// ParseOp returns the routable operation named name (mcrouter's spelling), or
// OpUnknown and false.
func ParseOp(name string) (Op, bool) {
	for _, o := range RoutableOps {
		if opNames[o] == name {
			return o, true
		}
	}
	return OpUnknown, false
}

// Routable reports whether the route graph handles o (as opposed to the
// proxy answering it itself).
func (o Op) Routable() bool { return o >= OpGet && o <= OpFlushRe }

// Group is mcrouter's routing group of an operation, as used by
// RoutingGroupRoute.
type Group uint8

// The routing groups. GroupNone holds touch, flushall and flushre.
const (
	GroupNone Group = iota
	GroupGetLike
	GroupUpdateLike
	GroupDeleteLike
	GroupArithmeticLike
)

// GroupNames are the routing_group_policies keys, indexed by Group.
var GroupNames = [...]string{"", "get_like", "update_like", "delete_like", "arithmetic_like"}

// Group returns the routing group of o.
func (o Op) Group() Group {
	switch o {
	case OpGet, OpGets, OpMetaget, OpLeaseGet, OpGat, OpGats:
		return GroupGetLike
	case OpSet, OpAdd, OpReplace, OpLeaseSet, OpAppend, OpPrepend, OpCas:
		return GroupUpdateLike
	case OpDelete:
		return GroupDeleteLike
	case OpIncr, OpDecr:
		return GroupArithmeticLike
	}
	return GroupNone
}

// IsGetLike reports whether o reads a value (get, gets, gat, gats, metaget,
// lease-get).
func (o Op) IsGetLike() bool { return o.Group() == GroupGetLike }

// IsUpdateLike reports whether o stores a value.
func (o Op) IsUpdateLike() bool { return o.Group() == GroupUpdateLike }

// HasValue reports whether requests of o carry a data block.
func (o Op) HasValue() bool { return o.IsUpdateLike() }

// DefaultResult is the reply mcrouter's NullRoute gives for o: NOTSTORED for
// update-like operations, NOTFOUND for everything else.
func (o Op) DefaultResult() Result {
	if o.IsUpdateLike() {
		return ResNotStored
	}
	return ResNotFound
}
