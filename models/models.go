package models

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strings"

	"latflow/ensemble"
	"latflow/flow"
	"latflow/lattice"
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

// Registry is a set of model files NAME.flow at the top of a file system,
// with the default model of each theory. Shipped is the one embedded in
// latflow; tests build others with NewRegistry.
type Registry struct {
	fsys     fs.FS
	defaults map[string]string // theory -> name
}

// NewRegistry returns the registry of the NAME.flow files of fsys, with
// defaults naming the default model of each theory.
func NewRegistry(fsys fs.FS, defaults map[string]string) *Registry {
	return &Registry{fsys: fsys, defaults: defaults}
}

// Shipped is the registry of the models embedded in latflow.
var Shipped = NewRegistry(files, defaults)

// Names returns the names of the shipped models, sorted.
func Names() []string { return Shipped.Names() }

// List returns the shipped models, sorted by name.
func List() ([]Info, error) { return Shipped.List() }

// Get returns the shipped model name and its file bytes (Registry.Get).
func Get(name string) (Info, []byte, error) { return Shipped.Get(name) }

// Default returns the default shipped model of a theory and its bytes.
func Default(theory string) (Info, []byte, error) { return Shipped.Default(theory) }

// ForTarget returns the shipped model trained for target t
// (Registry.ForTarget).
func ForTarget(t ensemble.Target) (Info, []byte, bool, error) { return Shipped.ForTarget(t) }

// Names returns the names of r's models, sorted.
func (r *Registry) Names() []string {
	flows, _ := fs.Glob(r.fsys, "*.flow")
	names := make([]string, len(flows))
	for i, f := range flows {
		names[i] = strings.TrimSuffix(f, ".flow")
	}
	slices.Sort(names)
	return names
}

// List returns r's models, sorted by name.
func (r *Registry) List() ([]Info, error) {
	var out []Info
	for _, n := range r.Names() {
		info, _, err := r.Get(n)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// Get returns the model name and its file bytes, which are a model file
// as latflow train writes it. An unknown name is an error that lists the
// models.
func (r *Registry) Get(name string) (Info, []byte, error) {
	names := r.Names()
	if !slices.Contains(names, name) {
		return Info{}, nil, fmt.Errorf("models: no shipped model %q (shipped: %s)", name, strings.Join(names, ", "))
	}
	b, err := fs.ReadFile(r.fsys, name+".flow")
	if err != nil {
		return Info{}, nil, fmt.Errorf("models: shipped model %q: %w", name, err)
	}
	m, err := flow.Decode(Prefix+name, b)
	if err != nil {
		return Info{}, nil, err
	}
	sum := sha256.Sum256(b)
	d := r.defaults[m.Target.Theory] == name
	return Info{Name: name, Default: d, SHA256: hex.EncodeToString(sum[:]), Model: m}, b, nil
}

// Default returns the default model of a theory and its bytes.
func (r *Registry) Default(theory string) (Info, []byte, error) {
	name, ok := r.defaults[theory]
	if !ok {
		return Info{}, nil, fmt.Errorf("models: no shipped model for theory %q", theory)
	}
	return r.Get(name)
}

// ForTarget returns the model of r trained for the target t, with ok
// false (and no error) if there is none: a model whose training target
// has t's theory and L and the same action (SameAction), so that phi^4
// couplings given in the other parametrization match when they make the
// same action of the field. Among several it returns the one with the
// highest measured acceptance (provenance evaluation), then the first by
// name.
func (r *Registry) ForTarget(t ensemble.Target) (info Info, b []byte, ok bool, err error) {
	best := -1.0
	for _, n := range r.Names() {
		i, data, err := r.Get(n)
		if err != nil {
			return Info{}, nil, false, err
		}
		if !SameAction(i.Target, t) {
			continue
		}
		acc := 0.0
		if e := i.Provenance.Eval; e != nil && e.Acceptance > 0 {
			acc = e.Acceptance
		}
		if acc > best {
			info, b, ok, best = i, data, true, acc
		}
	}
	return info, b, ok, nil
}

// SameAction reports whether the targets a and b are valid and have the
// same theory, the same L and the same action as a function of the
// configuration: equal couplings for the gauge theories; for phi^4 equal
// coefficients (J, A, B) of S = sum_x [ -2 J sum_mu phi phi' + A phi^2 +
// B phi^4 ] (to a relative 1e-12), which are (1, 4 + m2, lambda) in the
// standard parametrization and (kappa, 1 - 2 lambda, lambda) in the
// hopping one. Couplings that describe the same physics only after a
// rescaling of the field (phi_standard = sqrt(kappa) phi_hopping) do not
// match: a flow proposes the field it was trained on.
func SameAction(a, b ensemble.Target) bool {
	if a.Validate() != nil || b.Validate() != nil || a.Theory != b.Theory || a.L != b.L {
		return false
	}
	if a.Theory != ensemble.Phi4 {
		return a.Equal(b)
	}
	g := lattice.NewGeometry(a.L)
	pa, okA := a.Action(g).(lattice.Phi4Action)
	pb, okB := b.Action(g).(lattice.Phi4Action)
	close := func(x, y float64) bool { return math.Abs(x-y) <= 1e-12*max(math.Abs(x), math.Abs(y)) }
	return okA && okB && close(pa.J, pb.J) && close(pa.A, pb.A) && close(pa.B, pb.B)
}
