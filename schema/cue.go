package schema

import (
	"embed"
	"io/fs"
	"sort"
)

//go:embed *.cue
var cueFS embed.FS

// CUEPackage is the package name of the embedded CUE files. The compiler
// rewrites it to the policy's own package name when it adds the files to a
// policy, so that policies refer to the definitions directly.
const CUEPackage = "mcroute"

// CUEFile is one file of the policy language's CUE definitions.
type CUEFile struct {
	// Name is the file's base name ("route.cue").
	Name string
	// Source is the file's text, starting with "package mcroute".
	Source []byte
}

// CUEFiles returns the CUE definitions of the policy language (#Policy,
// #Pool, #Route, #Kinds, the templates, ...), sorted by name. Each call
// returns fresh copies.
func CUEFiles() []CUEFile {
	entries, err := fs.ReadDir(cueFS, ".")
	if err != nil {
		panic("schema: embedded CUE files: " + err.Error())
	}
	var out []CUEFile
	for _, e := range entries {
		b, err := fs.ReadFile(cueFS, e.Name())
		if err != nil {
			panic("schema: embedded CUE files: " + err.Error())
		}
		out = append(out, CUEFile{Name: e.Name(), Source: b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
