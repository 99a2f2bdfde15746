// Package compiler loads routing policies: CUE policies written in the
// mcroute policy language, and mcrouter JSON configs. Both become a
// schema.Config (the route graph) with positioned diagnostics; see Load.
//
// A CUE policy is compiled in named stages:
//
//   - read: the policy's files (a .cue file, or a directory holding one
//     package) and their package name;
//   - load: parse them with the language's definitions (the embedded
//     schema/*.cue files) added to the policy's package, so that the policy
//     refers to #Route, #ReplicatedPool and the rest directly;
//   - names: refuse policies that redefine one of those definitions;
//   - build: evaluate the policy as written;
//   - index: record where each literal value is written, for positions;
//   - validate: unify the policy with #Policy, validate it (all errors,
//     concrete values), export it as JSON and decode that with
//     mcrouterjson.Decode (Policy dialect), which builds the route graph
//     and checks what CUE cannot (pool references, named handles, server
//     addresses). When validation fails, the policy as written is also
//     decoded, so that every problem is reported in one run, and CUE's
//     errors are translated into the same diagnostics as Decode's;
//   - check: what the schema leaves to Go (one weight per server);
//   - discovery: warn about what mcrouter JSON cannot express.
//
// Diagnostics point into the policy's own files, never into the
// definitions, whenever the policy wrote the value at fault.
//
// Nothing in the runtime needs this package: the proxy serves a
// schema.Config.
package compiler
