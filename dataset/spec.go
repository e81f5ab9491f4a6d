package dataset

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
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

// Names of the ensemble columns of format 2, after the fixed columns and
// before one float64 column per coupling, named after it.
const (
	ColL    = "L"    // int32, Meta.L
	ColSeed = "seed" // uint64, Meta.Seed
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
	Observables []string // one float64 column each, after the fixed (and ensemble) columns
	// Labels names one string column each, after the observables, e.g.
	// "update" with values "flow" or "hmc" (format 2 only).
	Labels     []string
	ConfigName string // name of the configuration column; "" for none
	ConfigSize int    // values per configuration (2V for links, V for phi)
	// ConfigFloat32 stores the configurations as float32 (format 2 only):
	// half the bytes, values rounded to the nearest float32 (relative error
	// at most 2^-24; see the package documentation).
	ConfigFloat32 bool
}

// couplingNames returns the names of the couplings of s in sorted order, the
// order of their columns in format 2.
func (s Spec) couplingNames() []string {
	return slices.Sorted(maps.Keys(s.Meta.Couplings))
}

// validate reports the first problem of s for a writer of the format.
func (s Spec) validate(format int) error {
	if err := s.Meta.validate(); err != nil {
		return err
	}
	if format == FormatVersion1 {
		if len(s.Labels) > 0 {
			return fmt.Errorf("dataset: format 1 has no string columns (Spec.Labels = %v)", s.Labels)
		}
		if s.ConfigFloat32 {
			return fmt.Errorf("dataset: format 1 stores configurations as float64 only (Spec.ConfigFloat32)")
		}
	}
	seen := map[string]string{ColChain: "a fixed column", ColStep: "a fixed column",
		ColAccepted: "a fixed column", ColAction: "a fixed column"}
	use := func(name, what string) error {
		if name == "" {
			return fmt.Errorf("dataset: empty %s name", what)
		}
		if prev, ok := seen[name]; ok {
			return fmt.Errorf("dataset: column name %q used twice (%s and %s)", name, prev, what)
		}
		seen[name] = what
		return nil
	}
	if format == FormatVersion2 {
		seen[ColL], seen[ColSeed] = "an ensemble column", "an ensemble column"
		for _, name := range s.couplingNames() {
			if err := use(name, "coupling"); err != nil {
				return err
			}
		}
	}
	for _, name := range s.Observables {
		if err := use(name, "observable"); err != nil {
			return err
		}
	}
	for _, name := range s.Labels {
		if err := use(name, "label"); err != nil {
			return err
		}
	}
	if s.ConfigName == "" {
		if s.ConfigSize != 0 || s.ConfigFloat32 {
			return fmt.Errorf("dataset: ConfigSize = %d or ConfigFloat32 without ConfigName", s.ConfigSize)
		}
		return nil
	}
	if err := use(s.ConfigName, "configuration"); err != nil {
		return err
	}
	if s.ConfigSize <= 0 || s.ConfigSize > math.MaxInt32 {
		return fmt.Errorf("dataset: ConfigSize = %d, want 1 <= ConfigSize <= %d", s.ConfigSize, math.MaxInt32)
	}
	return nil
}

// configElem returns the element type of the configuration column.
func (s Spec) configElem() arrow.DataType {
	if s.ConfigFloat32 {
		return arrow.PrimitiveTypes.Float32
	}
	return arrow.PrimitiveTypes.Float64
}

// schema returns the Arrow schema of the parts of the format, with s.Meta as
// metadata (without the per-part keys).
func (s Spec) schema(format int) *arrow.Schema {
	fields := []arrow.Field{
		{Name: ColChain, Type: arrow.PrimitiveTypes.Int32},
		{Name: ColStep, Type: arrow.PrimitiveTypes.Int64},
		{Name: ColAccepted, Type: arrow.FixedWidthTypes.Boolean},
		{Name: ColAction, Type: arrow.PrimitiveTypes.Float64},
	}
	if format == FormatVersion2 {
		fields = append(fields,
			arrow.Field{Name: ColL, Type: arrow.PrimitiveTypes.Int32},
			arrow.Field{Name: ColSeed, Type: arrow.PrimitiveTypes.Uint64})
		for _, name := range s.couplingNames() {
			fields = append(fields, arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Float64})
		}
	}
	for _, name := range s.Observables {
		// Nullable in format 2: a step may have no value (Row.Null).
		fields = append(fields, arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Float64, Nullable: format == FormatVersion2})
	}
	for _, name := range s.Labels {
		fields = append(fields, arrow.Field{Name: name, Type: arrow.BinaryTypes.String})
	}
	if s.ConfigName != "" {
		typ := arrow.DataType(arrow.FixedSizeListOf(int32(s.ConfigSize), arrow.PrimitiveTypes.Float64))
		if format == FormatVersion2 {
			typ = arrow.ListOfNonNullable(s.configElem())
		}
		fields = append(fields, arrow.Field{Name: s.ConfigName, Type: typ, Nullable: true})
	}
	kv := s.Meta.metadataMap(format)
	if format == FormatVersion2 && s.ConfigName != "" {
		kv[KeyConfigSize] = strconv.Itoa(s.ConfigSize)
	}
	md := arrow.MetadataFrom(kv)
	return arrow.NewSchema(fields, &md)
}

// specFrom decodes the layout, metadata and format version of a part's
// schema.
func specFrom(sc *arrow.Schema) (Spec, int, error) {
	md := sc.Metadata()
	meta, format, err := metaFrom(md)
	if err != nil {
		return Spec{}, 0, err
	}
	fields := sc.Fields()
	type column struct {
		name string
		typ  arrow.DataType
	}
	want := []column{
		{ColChain, arrow.PrimitiveTypes.Int32},
		{ColStep, arrow.PrimitiveTypes.Int64},
		{ColAccepted, arrow.FixedWidthTypes.Boolean},
		{ColAction, arrow.PrimitiveTypes.Float64},
	}
	s := Spec{Meta: meta}
	if format == FormatVersion2 {
		want = append(want, column{ColL, arrow.PrimitiveTypes.Int32}, column{ColSeed, arrow.PrimitiveTypes.Uint64})
		for _, name := range s.couplingNames() {
			want = append(want, column{name, arrow.PrimitiveTypes.Float64})
		}
	}
	if len(fields) < len(want) {
		return Spec{}, 0, fmt.Errorf("%d columns, want at least %d", len(fields), len(want))
	}
	for i, f := range want {
		if fields[i].Name != f.name || !arrow.TypeEqual(fields[i].Type, f.typ) {
			return Spec{}, 0, fmt.Errorf("column %d is %s %s, want %s %s", i, fields[i].Name, fields[i].Type, f.name, f.typ)
		}
	}
	rest := fields[len(want):]
	for len(rest) > 0 && arrow.TypeEqual(rest[0].Type, arrow.PrimitiveTypes.Float64) {
		s.Observables = append(s.Observables, rest[0].Name)
		rest = rest[1:]
	}
	for format == FormatVersion2 && len(rest) > 0 && arrow.TypeEqual(rest[0].Type, arrow.BinaryTypes.String) {
		s.Labels = append(s.Labels, rest[0].Name)
		rest = rest[1:]
	}
	if len(rest) > 0 {
		f := rest[0]
		switch lt := f.Type.(type) {
		case *arrow.FixedSizeListType:
			if format != FormatVersion1 || !arrow.TypeEqual(lt.Elem(), arrow.PrimitiveTypes.Float64) {
				return Spec{}, 0, fmt.Errorf("column %s is %s, want a list of float64 or float32", f.Name, f.Type)
			}
			s.ConfigName, s.ConfigSize = f.Name, int(lt.Len())
		case *arrow.ListType:
			switch {
			case format != FormatVersion2:
				return Spec{}, 0, fmt.Errorf("column %s is %s, want a fixed-size list of float64 in format 1", f.Name, f.Type)
			case arrow.TypeEqual(lt.Elem(), arrow.PrimitiveTypes.Float64):
			case arrow.TypeEqual(lt.Elem(), arrow.PrimitiveTypes.Float32):
				s.ConfigFloat32 = true
			default:
				return Spec{}, 0, fmt.Errorf("column %s is %s, want a list of float64 or float32", f.Name, f.Type)
			}
			s.ConfigName = f.Name
			v, _ := md.GetValue(KeyConfigSize)
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 || n > math.MaxInt32 {
				return Spec{}, 0, fmt.Errorf("bad %s %q for configuration column %s", KeyConfigSize, v, f.Name)
			}
			s.ConfigSize = n
		default:
			return Spec{}, 0, fmt.Errorf("column %s is %s, want float64, string or a configuration list", f.Name, f.Type)
		}
		rest = rest[1:]
	}
	if len(rest) > 0 {
		return Spec{}, 0, fmt.Errorf("column %s (%s) after the configuration column %s", rest[0].Name, rest[0].Type, s.ConfigName)
	}
	return s, format, nil
}

// layoutDiff compares the columns of a and b, and returns a description of
// each side of the first difference, or "" if they agree. A part without a
// configuration column agrees with one that has it, and configurations of
// unknown size (0) or another precision agree with any.
func layoutDiff(a, b Spec) (va, vb string) {
	if !slices.Equal(a.Observables, b.Observables) {
		return "observables [" + strings.Join(a.Observables, ",") + "]",
			"observables [" + strings.Join(b.Observables, ",") + "]"
	}
	if !slices.Equal(a.Labels, b.Labels) {
		return "labels [" + strings.Join(a.Labels, ",") + "]", "labels [" + strings.Join(b.Labels, ",") + "]"
	}
	if a.ConfigName != "" && b.ConfigName != "" && (a.ConfigName != b.ConfigName || a.ConfigSize != b.ConfigSize) {
		return configText(a), configText(b)
	}
	return "", ""
}

// schemaDiff is layoutDiff for parts of one directory, which must have the
// same columns and types so that Polars reads the directory as one table:
// the same format, configuration column (or none) and precision.
func schemaDiff(a Spec, fa int, b Spec, fb int) (va, vb string) {
	if fa != fb {
		return fmt.Sprintf("format %d", fa), fmt.Sprintf("format %d", fb)
	}
	if va, vb := layoutDiff(a, b); va != "" {
		return va, vb
	}
	if a.ConfigName != b.ConfigName || a.ConfigFloat32 != b.ConfigFloat32 {
		return configText(a), configText(b)
	}
	return "", ""
}

// configText describes the configuration column of s.
func configText(s Spec) string {
	if s.ConfigName == "" {
		return "no configuration column"
	}
	prec := "float64"
	if s.ConfigFloat32 {
		prec = "float32"
	}
	return fmt.Sprintf("configuration %s[%d] (%s)", s.ConfigName, s.ConfigSize, prec)
}
