package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run this binary as the "mcroute" command, so
// scripts exercise exactly what users run, with real exit codes.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"mcroute": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScript runs the command-line scripts in testdata/script. With
// MCROUTE_UPDATE=1, cmp failures rewrite the expected files in the scripts.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: os.Getenv("MCROUTE_UPDATE") == "1",
		Setup: func(env *testscript.Env) error {
			// Scripts may reference the repository's examples.
			root, err := os.Getwd()
			if err != nil {
				return err
			}
			env.Setenv("EXAMPLES", root+"/../../examples")
			return nil
		},
	})
}
