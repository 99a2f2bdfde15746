package jsonm_test

import (
	"fmt"

	"github.com/mcroute/mcroute/compiler/jsonm"
)

func ExampleExpand() {
	src := `{
  // JSONC: comments and trailing commas are fine.
  "macros": {
    "pool": {
      "type": "macroDef",
      "params": ["name", {"name": "port", "default": "11211"}],
      "result": {"servers": ["%name%-1:%port%", "%name%-2:%port%",]}
    }
  },
  "pools": {"A": "@pool(a)", "B": "@pool(b, 5000)"},
  "route": "PoolRoute|%default-pool%",
}`
	root, err := jsonm.Parse("mcrouter.json", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := jsonm.Expand(root, jsonm.Options{
		Params: map[string]*jsonm.Value{"default-pool": jsonm.NewString("A", jsonm.Pos{})},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out)
	b := out.Get("pools").Get("B").Get("servers").Arr[1]
	fmt.Printf("%q comes from %v\n", b.Str, b.Pos)
	// Output:
	// {"pools":{"A":{"servers":["a-1:11211","a-2:11211"]},"B":{"servers":["b-1:5000","b-2:5000"]}},"route":"PoolRoute|A"}
	// "b-2:5000" comes from mcrouter.json:7:49
}

func ExampleExpand_error() {
	src := `{
  "macros": {"half": {"type": "macroDef", "params": ["n"], "result": "@div(%n%, @int(0))"}},
  "route": {"timeout": "@half(@int(10))"}
}`
	root, _ := jsonm.Parse("mcrouter.json", []byte(src))
	_, err := jsonm.Expand(root, jsonm.Options{})
	fmt.Println(err)
	// Output:
	// mcrouter.json:2:70: div: B == 0
	// 	mcrouter.json:3:24: in macro 'half'
}
