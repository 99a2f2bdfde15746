// Package lint checks routing policies for mistakes that load fine but route
// badly: writes fanned out to every server of a pool, deletes whose failures
// are never reported, replicas that hash differently, unreachable policies,
// unused pools, failovers to the server that just failed, and more.
//
// Rules work on the route graph ([schema.Config]), so they apply equally to
// CUE policies and to mcrouter JSON configs; each rule has a stable ID, a
// default severity and a documentation paragraph ([Rules]). For JSON inputs
// Lint also validates the macro-expanded JSON against the JSON Schema of
// mcrouter configs ([schema.MCRouterJSONSchema]), reporting each violation
// at the line and column of the offending value unless the loader already
// reported a problem there.
//
// The loader's own findings (mcrouterjson.Decode: unknown pools, unknown
// route types, missing Pool| prefixes, ...) are not repeated by Lint, but
// their rule IDs are documented here too, with a nil Run, so that
// `mcroute lint --explain RULE` covers every ID a user can see.
//
// Findings are [diag.Diagnostic] values; [Format] renders them as text,
// JSON, SARIF 2.1.0 or GitHub Actions workflow commands.
package lint
