package dataset

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The Arrow decoder (arrow-go) allocates slices by lengths that it reads
// from the file: the number of fields, children and metadata pairs in the
// footer, and the buffer sizes of a compressed record batch. A flipped bit
// in one of them can ask for terabytes, which ends the process with a fatal
// out-of-memory error that no recover catches. So before decoding a part,
// checkFooter bounds every vector of the footer by the footer's size, and
// boundedAllocator refuses (by a panic that decodePart recovers) any buffer
// larger than the file.

// Flatbuffers vtable slots of the Arrow footer tables (format/File.fbs,
// format/Schema.fbs).
const (
	slotFooterSchema        = 1
	slotFooterDictionaries  = 2
	slotFooterRecordBatches = 3
	slotSchemaFields        = 1
	slotSchemaMetadata      = 2
	slotSchemaFeatures      = 3
	slotFieldName           = 0
	slotFieldChildren       = 5
	slotFieldMetadata       = 6
	slotKeyValueKey         = 0
	slotKeyValueValue       = 1

	fbBlockSize   = 24 // struct Block: offset int64, metaDataLength int32 (+4 padding), bodyLength int64
	fbOffsetSize  = 4
	fbMaxDepth    = 32      // nesting of fields
	fbMaxVisits   = 1 << 16 // tables visited in one footer
	ipcMagic      = "ARROW1"
	ipcFooterTail = len(ipcMagic) + 4 // footer length (int32) and magic
)

// checkFooter checks that the footer of the Arrow IPC file data is a
// flatbuffer whose vectors and strings fit inside it. A file too short or
// without the magic passes: arrow-go reports those itself.
func checkFooter(data []byte) error {
	n := len(data)
	if n < 2*len(ipcMagic)+4 || string(data[n-len(ipcMagic):]) != ipcMagic {
		return nil
	}
	size := int64(int32(binary.LittleEndian.Uint32(data[n-ipcFooterTail:])))
	if size <= 0 || size > int64(n-ipcFooterTail) {
		return nil
	}
	fb := flatbuf{b: data[int64(n-ipcFooterTail)-size : n-ipcFooterTail]}
	root, err := fb.uoffset(0)
	if err != nil {
		return err
	}
	footer, err := fb.table(root)
	if err != nil {
		return err
	}
	for _, slot := range []int{slotFooterDictionaries, slotFooterRecordBatches} {
		if _, _, err := fb.vector(footer, slot, fbBlockSize); err != nil {
			return err
		}
	}
	schema, ok, err := fb.child(footer, slotFooterSchema)
	if err != nil || !ok {
		return err
	}
	if _, _, err := fb.vector(schema, slotSchemaFeatures, 8); err != nil {
		return err
	}
	if err := fb.keyValues(schema, slotSchemaMetadata); err != nil {
		return err
	}
	return fb.fields(schema, slotSchemaFields, 0)
}

// flatbuf reads a flatbuffer with bounds checks.
type flatbuf struct {
	b      []byte
	visits int
}

// fbTable is a table of a flatbuf: its position and its vtable's.
type fbTable struct{ at, vt, vtSize int }

func (f *flatbuf) errorf(format string, args ...any) error {
	return fmt.Errorf("corrupt Arrow footer: "+format, args...)
}

func (f *flatbuf) u16(at int) (int, error) {
	if at < 0 || at+2 > len(f.b) {
		return 0, f.errorf("offset %d outside the footer (%d bytes)", at, len(f.b))
	}
	return int(binary.LittleEndian.Uint16(f.b[at:])), nil
}

func (f *flatbuf) u32(at int) (int64, error) {
	if at < 0 || at+4 > len(f.b) {
		return 0, f.errorf("offset %d outside the footer (%d bytes)", at, len(f.b))
	}
	return int64(binary.LittleEndian.Uint32(f.b[at:])), nil
}

// uoffset returns the position that the unsigned offset at at points to.
func (f *flatbuf) uoffset(at int) (int, error) {
	u, err := f.u32(at)
	if err != nil {
		return 0, err
	}
	if to := int64(at) + u; to < int64(len(f.b)) {
		return int(to), nil
	}
	return 0, f.errorf("offset %d at %d points outside the footer (%d bytes)", u, at, len(f.b))
}

// table returns the table at at.
func (f *flatbuf) table(at int) (fbTable, error) {
	if f.visits++; f.visits > fbMaxVisits {
		return fbTable{}, f.errorf("more than %d tables", fbMaxVisits)
	}
	so, err := f.u32(at)
	if err != nil {
		return fbTable{}, err
	}
	vt := at - int(int32(uint32(so)))
	vtSize, err := f.u16(vt)
	if err != nil {
		return fbTable{}, err
	}
	if vtSize < 4 || vt+vtSize > len(f.b) {
		return fbTable{}, f.errorf("vtable of %d bytes at %d", vtSize, vt)
	}
	return fbTable{at: at, vt: vt, vtSize: vtSize}, nil
}

// field returns the position of the field in slot of t, if present.
func (f *flatbuf) field(t fbTable, slot int) (int, bool, error) {
	at := 4 + 2*slot
	if at+2 > t.vtSize {
		return 0, false, nil
	}
	o, err := f.u16(t.vt + at)
	if err != nil || o == 0 {
		return 0, false, err
	}
	return t.at + o, true, nil
}

// child returns the table that the field in slot of t points to.
func (f *flatbuf) child(t fbTable, slot int) (fbTable, bool, error) {
	at, ok, err := f.field(t, slot)
	if err != nil || !ok {
		return fbTable{}, false, err
	}
	to, err := f.uoffset(at)
	if err != nil {
		return fbTable{}, false, err
	}
	c, err := f.table(to)
	return c, err == nil, err
}

// vector returns the position of the first element and the length of the
// vector in slot of t, checking that its elements of elemSize bytes fit.
func (f *flatbuf) vector(t fbTable, slot, elemSize int) (start, n int, err error) {
	at, ok, err := f.field(t, slot)
	if err != nil || !ok {
		return 0, 0, err
	}
	v, err := f.uoffset(at)
	if err != nil {
		return 0, 0, err
	}
	length, err := f.u32(v)
	if err != nil {
		return 0, 0, err
	}
	if int64(v)+4+length*int64(elemSize) > int64(len(f.b)) {
		return 0, 0, f.errorf("vector of %d elements at %d exceeds the footer (%d bytes)", length, v, len(f.b))
	}
	return v + 4, int(length), nil
}

// tables calls visit with each table of the vector of tables in slot of t.
func (f *flatbuf) tables(t fbTable, slot int, visit func(fbTable) error) error {
	start, n, err := f.vector(t, slot, fbOffsetSize)
	if err != nil {
		return err
	}
	for i := range n {
		to, err := f.uoffset(start + fbOffsetSize*i)
		if err != nil {
			return err
		}
		c, err := f.table(to)
		if err != nil {
			return err
		}
		if err := visit(c); err != nil {
			return err
		}
	}
	return nil
}

// fields checks the fields in slot of t and their children.
func (f *flatbuf) fields(t fbTable, slot, depth int) error {
	if depth > fbMaxDepth {
		return f.errorf("fields nested deeper than %d", fbMaxDepth)
	}
	return f.tables(t, slot, func(field fbTable) error {
		if _, _, err := f.vector(field, slotFieldName, 1); err != nil {
			return err
		}
		if err := f.keyValues(field, slotFieldMetadata); err != nil {
			return err
		}
		return f.fields(field, slotFieldChildren, depth+1)
	})
}

// keyValues checks the metadata vector in slot of t.
func (f *flatbuf) keyValues(t fbTable, slot int) error {
	return f.tables(t, slot, func(kv fbTable) error {
		for _, s := range []int{slotKeyValueKey, slotKeyValueValue} {
			if _, _, err := f.vector(kv, s, 1); err != nil { // strings are vectors of bytes
				return err
			}
		}
		return nil
	})
}

// boundedAllocator refuses, by a panic, a buffer larger than limit bytes:
// the Arrow buffers of an uncompressed part are slices of the file, so a
// larger request comes from a corrupt size.
type boundedAllocator struct {
	memory.Allocator
	limit int
}

func (a boundedAllocator) check(size int) {
	if size < 0 || size > a.limit {
		panic(fmt.Sprintf("buffer of %d bytes requested while reading a file of %d bytes", size, a.limit))
	}
}

func (a boundedAllocator) Allocate(size int) []byte {
	a.check(size)
	return a.Allocator.Allocate(size)
}

func (a boundedAllocator) Reallocate(size int, b []byte) []byte {
	a.check(size)
	return a.Allocator.Reallocate(size, b)
}

// checkFileFooter is checkFooter for an open file, reading its footer only.
func checkFileFooter(f *os.File) (size int64, err error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size = st.Size()
	if size < int64(2*len(ipcMagic)+4) {
		return size, nil
	}
	tail := make([]byte, ipcFooterTail)
	if _, err := f.ReadAt(tail, size-int64(len(tail))); err != nil {
		return size, err
	}
	n := int64(int32(binary.LittleEndian.Uint32(tail)))
	if n <= 0 || n > size-int64(len(tail)) {
		return size, nil
	}
	buf := make([]byte, n+int64(len(tail)))
	if _, err := f.ReadAt(buf, size-int64(len(buf))); err != nil {
		return size, err
	}
	return size, checkFooter(buf)
}

// readLimit is the largest Arrow buffer allocated while reading a file of
// size bytes.
func readLimit(size int64) int {
	return int(min(size, math.MaxInt32)) + 4096
}
