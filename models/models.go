package models

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
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

// Prefix marks a shipped model where a model file is expected:
// "shipped:NAME".
const Prefix = "shipped:"

// Names returns the names of the shipped models, sorted.
func Names() []string {
	flows, _ := fs.Glob(files, "*.flow")
	names := make([]string, len(flows))
	for i, f := range flows {
		names[i] = strings.TrimSuffix(f, ".flow")
	}
	slices.Sort(names)
	return names
}

// List returns the shipped models, sorted by name.
func List() ([]Info, error) {
	var out []Info
	for _, n := range Names() {
		info, _, err := Get(n)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// Get returns the shipped model name and its file bytes, which are a
// model file as latflow train writes it. An unknown name is an error that
// lists the shipped models.
func Get(name string) (Info, []byte, error) {
	names := Names()
	if !slices.Contains(names, name) {
		return Info{}, nil, fmt.Errorf("models: no shipped model %q (shipped: %s)", name, strings.Join(names, ", "))
	}
	b, err := files.ReadFile(name + ".flow")
	if err != nil {
		return Info{}, nil, fmt.Errorf("models: shipped model %q: %w", name, err)
	}
	m, err := flow.Decode(Prefix+name, b)
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
