package dataset

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Names of the fixed leading columns.
const (
	ColChain    = "chain"
	ColStep     = "step"
	ColAccepted = "accepted"
	ColAction   = "action"
)

// Conventional configuration column names.
const (
	ConfigLinks = "links" // U(1) link angles, size 2V, index mu*V + n
	ConfigPhi   = "phi"   // phi^4 field, size V, index n
)

// numFixed is the number of fixed leading columns.
const numFixed = 4

// Spec is the column layout and metadata of the parts a Writer writes.
type Spec struct {
	Meta        Meta
	Observables []string // one float64 column each, after the fixed columns
	ConfigName  string   // name of the configuration column; "" for none
	ConfigSize  int      // values per configuration (2V for links, V for phi)
}

// validate reports the first problem of s.
func (s Spec) validate() error {
	if err := s.Meta.validate(); err != nil {
		return err
	}
	seen := map[string]bool{ColChain: true, ColStep: true, ColAccepted: true, ColAction: true}
	for _, name := range s.Observables {
		if name == "" {
			return fmt.Errorf("dataset: empty observable name")
		}
		if seen[name] {
			return fmt.Errorf("dataset: column name %q used twice", name)
		}
		seen[name] = true
	}
	if s.ConfigName == "" {
		if s.ConfigSize != 0 {
			return fmt.Errorf("dataset: ConfigSize = %d without ConfigName", s.ConfigSize)
		}
		return nil
	}
	if seen[s.ConfigName] {
		return fmt.Errorf("dataset: column name %q used twice", s.ConfigName)
	}
	if s.ConfigSize <= 0 || s.ConfigSize > math.MaxInt32 {
		return fmt.Errorf("dataset: ConfigSize = %d, want 1 <= ConfigSize <= %d", s.ConfigSize, math.MaxInt32)
	}
	return nil
}

// schema returns the Arrow schema of the parts, with s.Meta as metadata.
func (s Spec) schema() *arrow.Schema {
	fields := []arrow.Field{
		{Name: ColChain, Type: arrow.PrimitiveTypes.Int32},
		{Name: ColStep, Type: arrow.PrimitiveTypes.Int64},
		{Name: ColAccepted, Type: arrow.FixedWidthTypes.Boolean},
		{Name: ColAction, Type: arrow.PrimitiveTypes.Float64},
	}
	for _, name := range s.Observables {
		fields = append(fields, arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Float64})
	}
	if s.ConfigName != "" {
		fields = append(fields, arrow.Field{
			Name:     s.ConfigName,
			Type:     arrow.FixedSizeListOf(int32(s.ConfigSize), arrow.PrimitiveTypes.Float64),
			Nullable: true,
		})
	}
	md := s.Meta.metadata()
	return arrow.NewSchema(fields, &md)
}

// specFrom decodes the layout and metadata of a part's schema.
func specFrom(sc *arrow.Schema) (Spec, error) {
	meta, err := metaFrom(sc.Metadata())
	if err != nil {
		return Spec{}, err
	}
	fields := sc.Fields()
	if len(fields) < numFixed {
		return Spec{}, fmt.Errorf("%d columns, want at least %d", len(fields), numFixed)
	}
	fixed := []struct {
		name string
		typ  arrow.DataType
	}{
		{ColChain, arrow.PrimitiveTypes.Int32},
		{ColStep, arrow.PrimitiveTypes.Int64},
		{ColAccepted, arrow.FixedWidthTypes.Boolean},
		{ColAction, arrow.PrimitiveTypes.Float64},
	}
	for i, f := range fixed {
		if fields[i].Name != f.name || !arrow.TypeEqual(fields[i].Type, f.typ) {
			return Spec{}, fmt.Errorf("column %d is %s %s, want %s %s", i, fields[i].Name, fields[i].Type, f.name, f.typ)
		}
	}
	s := Spec{Meta: meta}
	for i, f := range fields[numFixed:] {
		if f.Type.ID() == arrow.FIXED_SIZE_LIST && i == len(fields)-numFixed-1 {
			lt := f.Type.(*arrow.FixedSizeListType)
			if !arrow.TypeEqual(lt.Elem(), arrow.PrimitiveTypes.Float64) {
				return Spec{}, fmt.Errorf("column %s is %s, want a fixed-size list of float64", f.Name, f.Type)
			}
			s.ConfigName, s.ConfigSize = f.Name, int(lt.Len())
			break
		}
		if !arrow.TypeEqual(f.Type, arrow.PrimitiveTypes.Float64) {
			return Spec{}, fmt.Errorf("column %s is %s, want float64", f.Name, f.Type)
		}
		s.Observables = append(s.Observables, f.Name)
	}
	return s, nil
}

// layoutDiff compares the columns of a and b, and returns a description of
// each side of the first difference, or "" if they agree. A part without a
// configuration column agrees with one that has it.
func layoutDiff(a, b Spec) (va, vb string) {
	if !slices.Equal(a.Observables, b.Observables) {
		return "observables [" + strings.Join(a.Observables, ",") + "]",
			"observables [" + strings.Join(b.Observables, ",") + "]"
	}
	if a.ConfigName != "" && b.ConfigName != "" && (a.ConfigName != b.ConfigName || a.ConfigSize != b.ConfigSize) {
		return fmt.Sprintf("configuration %s[%d]", a.ConfigName, a.ConfigSize),
			fmt.Sprintf("configuration %s[%d]", b.ConfigName, b.ConfigSize)
	}
	return "", ""
}
