package dataset

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
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
	return fb.schema(schema)
}

// schema checks the vectors of a Schema table.
func (f *flatbuf) schema(schema fbTable) error {
	if _, _, err := f.vector(schema, slotSchemaFeatures, 8); err != nil {
		return err
	}
	if err := f.keyValues(schema, slotSchemaMetadata); err != nil {
		return err
	}
	return f.fields(schema, slotSchemaFields, 0)
}

// i64 reads the little-endian int64 at at.
func (f *flatbuf) i64(at int) (int64, error) {
	if at < 0 || at+8 > len(f.b) {
		return 0, f.errorf("offset %d outside the buffer (%d bytes)", at, len(f.b))
	}
	return int64(binary.LittleEndian.Uint64(f.b[at:])), nil
}

// Flatbuffers slots of an IPC Message and its RecordBatch (format/Message.fbs).
const (
	slotMessageHeader     = 2
	slotMessageBodyLength = 3
	slotRecordBatchLength = 0
	ipcContinuation       = 0xFFFFFFFF
)

// fileLayout is the framing of an Arrow IPC file, read from its footer
// and message headers without reading the record batch bodies.
type fileLayout struct {
	size        int64   // file size
	footerStart int64   // first byte of the footer
	blocks      []block // record batches, from the footer
	endianness  int     // of the footer's schema, as stored (0 little, 1 big)
}

// slotSchemaEndianness is the Schema table's endianness slot.
const slotSchemaEndianness = 0

// endianness returns the endianness field of a Schema table as stored (the
// reader converts the schema it returns to the native one).
func (f *flatbuf) endianness(schema fbTable) (int, error) {
	at, ok, err := f.field(schema, slotSchemaEndianness)
	if err != nil || !ok {
		return 0, err
	}
	return f.u16(at)
}

// block is a record batch of the footer.
type block struct {
	offset  int64
	metaLen int64
	bodyLen int64
}

// readLayout reads the footer's record batch blocks of the file f of size
// bytes, after checkFileFooter passed.
func readLayout(f *os.File, size int64) (fileLayout, error) {
	l := fileLayout{size: size}
	if size < int64(8+ipcFooterTail) {
		return l, fmt.Errorf("%d bytes, too short for an Arrow IPC file", size)
	}
	tail := make([]byte, ipcFooterTail)
	if _, err := f.ReadAt(tail, size-int64(len(tail))); err != nil {
		return l, err
	}
	n := int64(int32(binary.LittleEndian.Uint32(tail)))
	if string(tail[4:]) != ipcMagic || n <= 0 || n > size-int64(8+ipcFooterTail) {
		return l, fmt.Errorf("no valid footer at the end (length %d of a %d-byte file)", n, size)
	}
	l.footerStart = size - int64(ipcFooterTail) - n
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, l.footerStart); err != nil {
		return l, err
	}
	fb := flatbuf{b: buf}
	root, err := fb.uoffset(0)
	if err != nil {
		return l, err
	}
	footer, err := fb.table(root)
	if err != nil {
		return l, err
	}
	start, count, err := fb.vector(footer, slotFooterRecordBatches, fbBlockSize)
	if err != nil {
		return l, err
	}
	schema, ok, err := fb.child(footer, slotFooterSchema)
	if err != nil || !ok {
		return l, fmt.Errorf("footer without a schema")
	}
	if l.endianness, err = fb.endianness(schema); err != nil {
		return l, err
	}
	for i := range count {
		at := start + i*fbBlockSize
		off, _ := fb.i64(at)
		meta, _ := fb.u32(at + 8)
		body, _ := fb.i64(at + 16)
		l.blocks = append(l.blocks, block{offset: off, metaLen: int64(int32(uint32(meta))), bodyLen: body})
	}
	return l, nil
}

// checkLayout checks that the record batches of a part lie between the
// header and the footer without overlapping, and that the message of each
// says the body length that the footer says; it returns the rows of the
// record batches from their message headers. It reads the message headers
// (a few hundred bytes each), never the bodies.
func checkLayout(f *os.File, l fileLayout) (rows int64, err error) {
	end := int64(8) // after the magic and its padding
	for i, b := range l.blocks {
		if b.offset < end || b.metaLen < 8 || b.bodyLen < 0 || b.metaLen > l.footerStart || b.bodyLen > l.footerStart ||
			b.offset+b.metaLen+b.bodyLen > l.footerStart || b.offset%8 != 0 || b.metaLen%8 != 0 || b.bodyLen%8 != 0 {
			return 0, fmt.Errorf("record batch %d at bytes %d+%d+%d does not fit between byte %d and the footer at %d (file of %d bytes)",
				i, b.offset, b.metaLen, b.bodyLen, end, l.footerStart, l.size)
		}
		buf := make([]byte, b.metaLen)
		if _, err := f.ReadAt(buf, b.offset); err != nil {
			return 0, err
		}
		if binary.LittleEndian.Uint32(buf) != ipcContinuation {
			return 0, fmt.Errorf("record batch %d: no message at byte %d", i, b.offset)
		}
		n := int64(int32(binary.LittleEndian.Uint32(buf[4:])))
		if n != b.metaLen-8 {
			return 0, fmt.Errorf("record batch %d: message of %d bytes in a block of %d", i, n, b.metaLen)
		}
		fb := flatbuf{b: buf[8 : 8+n]}
		root, err := fb.uoffset(0)
		if err != nil {
			return 0, err
		}
		msg, err := fb.table(root)
		if err != nil {
			return 0, err
		}
		at, ok, err := fb.field(msg, slotMessageBodyLength)
		if err != nil || !ok {
			return 0, fmt.Errorf("record batch %d: message without a body length", i)
		}
		if body, err := fb.i64(at); err != nil || body != b.bodyLen {
			return 0, fmt.Errorf("record batch %d: its message says a body of %d bytes, the footer %d", i, body, b.bodyLen)
		}
		rb, ok, err := fb.child(msg, slotMessageHeader)
		if err != nil || !ok {
			return 0, fmt.Errorf("record batch %d: message without a header", i)
		}
		at, ok, err = fb.field(rb, slotRecordBatchLength)
		if err != nil {
			return 0, err
		}
		var length int64
		if ok {
			if length, err = fb.i64(at); err != nil {
				return 0, err
			}
		}
		if length < 0 {
			return 0, fmt.Errorf("record batch %d: %d rows", i, length)
		}
		rows += length
		end = b.offset + b.metaLen + b.bodyLen
	}
	return rows, nil
}

// headerSchema reads the schema message at the start of the Arrow IPC file
// f (which the footer repeats), bounding every length by the message, and
// returns it with its endianness as stored.
func headerSchema(f *os.File, size int64, mem memory.Allocator) (_ *arrow.Schema, endianness int, err error) {
	head := make([]byte, 16)
	if _, err := f.ReadAt(head, 0); err != nil {
		return nil, 0, err
	}
	if string(head[:len(ipcMagic)]) != ipcMagic || binary.LittleEndian.Uint32(head[8:]) != ipcContinuation {
		return nil, 0, fmt.Errorf("no Arrow IPC header")
	}
	n := int64(int32(binary.LittleEndian.Uint32(head[12:])))
	if n <= 0 || 16+n > size {
		return nil, 0, fmt.Errorf("schema message of %d bytes in a file of %d", n, size)
	}
	buf := make([]byte, 8+n, 16+n)
	if _, err := f.ReadAt(buf, 8); err != nil {
		return nil, 0, err
	}
	fb := flatbuf{b: buf[8:]}
	root, err := fb.uoffset(0)
	if err != nil {
		return nil, 0, err
	}
	msg, err := fb.table(root)
	if err != nil {
		return nil, 0, err
	}
	schema, ok, err := fb.child(msg, slotMessageHeader)
	if err != nil || !ok {
		return nil, 0, fmt.Errorf("schema message without a schema")
	}
	if err := fb.schema(schema); err != nil {
		return nil, 0, err
	}
	if endianness, err = fb.endianness(schema); err != nil {
		return nil, 0, err
	}
	buf = binary.LittleEndian.AppendUint32(buf, ipcContinuation) // end of stream
	buf = append(buf, 0, 0, 0, 0)
	r, err := ipc.NewReader(bytes.NewReader(buf), ipc.WithAllocator(boundedAllocator{mem, readLimit(size)}))
	if err != nil {
		return nil, 0, err
	}
	defer r.Release()
	return r.Schema(), endianness, nil
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
