package models

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"latflow/ensemble"
	"latflow/flow"
)

//go:embed *.flow
var files embed.FS

// defaults names the shipped model used for each theory when no model is
// given.
var defaults = map[string]string{
	ensemble.U1:   "u1-L16-beta3",
	ensemble.Phi4: "phi4-L8-m2-4-lambda8",
}

// Info describes a shipped model.
type Info struct {
	// Name is the model's name, its file name without ".flow".
	Name string
	// Default reports whether it is the default of its theory.
	Default bool
	// SHA256 is the hex SHA-256 of the model file.
	SHA256 string
	flow.Model
}

// List returns the shipped models, sorted by name.
func List() ([]Info, error) {
	names, err := fs.Glob(files, "*.flow")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var out []Info
	for _, n := range names {
		info, _, err := Get(strings.TrimSuffix(n, ".flow"))
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// Get returns the shipped model name and its file bytes.
func Get(name string) (Info, []byte, error) {
	b, err := files.ReadFile(path.Clean(name) + ".flow")
	if err != nil {
		return Info{}, nil, fmt.Errorf("models: no shipped model %q", name)
	}
	m, err := flow.Decode("shipped:"+name, b)
	if err != nil {
		return Info{}, nil, err
	}
	sum := sha256.Sum256(b)
	d := defaults[m.Target.Theory] == name
	return Info{Name: name, Default: d, SHA256: hex.EncodeToString(sum[:]), Model: m}, b, nil
}

// Default returns the default shipped model of a theory and its bytes.
func Default(theory string) (Info, []byte, error) {
	name, ok := defaults[theory]
	if !ok {
		return Info{}, nil, fmt.Errorf("models: no shipped model for theory %q", theory)
	}
	return Get(name)
}
