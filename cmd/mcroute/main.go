// Command mcroute compiles, checks, explains, simulates and serves memcached
// routing policies written in CUE or as mcrouter JSON.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
