package schema

import _ "embed"

// mcrouterJSONSchema is the JSON Schema (draft 2020-12) of mcrouter configs.
//
//go:embed mcrouter.schema.json
var mcrouterJSONSchema []byte

// MCRouterJSONSchemaURL is the $id of the JSON Schema returned by
// MCRouterJSONSchema.
const MCRouterJSONSchemaURL = "https://github.com/mcroute/mcroute/schema/mcrouter.schema.json"

// MCRouterJSONSchema returns the JSON Schema (draft 2020-12) of mcrouter
// configs after JSONM macro expansion: the top-level keys, pools, and one
// if/then branch per route "type" listing the options mcrouter reads. Editors
// can use it directly; mcroute lint validates JSON inputs with it. Each call
// returns a fresh copy.
func MCRouterJSONSchema() []byte {
	return append([]byte(nil), mcrouterJSONSchema...)
}
