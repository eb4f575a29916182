package realengine

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// GGUF is llama.cpp's model file: a header, typed key/value metadata, a
// table of tensor descriptions, then the tensors' bytes, each aligned. This
// file writes version 3, little-endian, with the default 32-byte alignment.

const (
	ggufMagic     = 0x46554747 // "GGUF" read as a little-endian uint32
	ggufVersion   = 3
	ggufAlignment = 32
)

// GGUF metadata value types.
const (
	ggufUint32  = 4
	ggufInt32   = 5
	ggufFloat32 = 6
	ggufBool    = 7
	ggufString  = 8
	ggufArray   = 9
)

// ggml tensor element types.
const (
	ggmlF32 = 0
	ggmlF16 = 1
)

// kv is one metadata entry. value is a string, uint32, int32, float32,
// bool, []string or []int32.
type kv struct {
	key   string
	value any
}

// tensor describes one tensor: dims innermost first, as ggml lists them.
// fill writes exactly size() bytes of its data.
type tensor struct {
	name string
	dims []uint64
	typ  uint32
	fill func(w io.Writer) error
}

func (t tensor) elements() uint64 {
	n := uint64(1)
	for _, d := range t.dims {
		n *= d
	}
	return n
}

func (t tensor) size() uint64 {
	if t.typ == ggmlF16 {
		return 2 * t.elements()
	}
	return 4 * t.elements()
}

func padding(n uint64) uint64 { return (ggufAlignment - n%ggufAlignment) % ggufAlignment }

// ggufWriter writes little-endian values and keeps the first error and the
// byte count, so a long run of writes is checked once.
type ggufWriter struct {
	w   *bufio.Writer
	n   uint64
	err error
}

func (g *ggufWriter) bytes(b []byte) {
	if g.err != nil {
		return
	}
	k, err := g.w.Write(b)
	g.n += uint64(k)
	g.err = err
}

func (g *ggufWriter) u32(v uint32) { g.bytes(binary.LittleEndian.AppendUint32(nil, v)) }
func (g *ggufWriter) u64(v uint64) { g.bytes(binary.LittleEndian.AppendUint64(nil, v)) }

func (g *ggufWriter) str(s string) {
	g.u64(uint64(len(s)))
	g.bytes([]byte(s))
}

func (g *ggufWriter) value(v any) error {
	switch x := v.(type) {
	case string:
		g.u32(ggufString)
		g.str(x)
	case uint32:
		g.u32(ggufUint32)
		g.u32(x)
	case int32:
		g.u32(ggufInt32)
		g.u32(uint32(x))
	case float32:
		g.u32(ggufFloat32)
		g.u32(math.Float32bits(x))
	case bool:
		g.u32(ggufBool)
		b := byte(0)
		if x {
			b = 1
		}
		g.bytes([]byte{b})
	case []string:
		g.u32(ggufArray)
		g.u32(ggufString)
		g.u64(uint64(len(x)))
		for _, s := range x {
			g.str(s)
		}
	case []int32:
		g.u32(ggufArray)
		g.u32(ggufInt32)
		g.u64(uint64(len(x)))
		for _, n := range x {
			g.u32(uint32(n))
		}
	default:
		return fmt.Errorf("gguf: unsupported metadata type %T", v)
	}
	return nil
}

// writeGGUF writes a whole file: header, metadata, tensor table, data.
func writeGGUF(w io.Writer, meta []kv, tensors []tensor) error {
	g := &ggufWriter{w: bufio.NewWriterSize(w, 1<<20)}
	g.u32(ggufMagic)
	g.u32(ggufVersion)
	g.u64(uint64(len(tensors)))
	g.u64(uint64(len(meta)))
	for _, e := range meta {
		g.str(e.key)
		if err := g.value(e.value); err != nil {
			return fmt.Errorf("gguf: key %s: %w", e.key, err)
		}
	}
	var offset uint64
	for _, t := range tensors {
		g.str(t.name)
		g.u32(uint32(len(t.dims)))
		for _, d := range t.dims {
			g.u64(d)
		}
		g.u32(t.typ)
		g.u64(offset)
		offset += t.size() + padding(t.size())
	}
	g.bytes(make([]byte, padding(g.n)))
	for _, t := range tensors {
		if err := writeTensorData(g, t); err != nil {
			return err
		}
	}
	if g.err == nil {
		g.err = g.w.Flush()
	}
	if g.err != nil {
		return fmt.Errorf("gguf: writing: %w", g.err)
	}
	return nil
}

// writeTensorData writes one tensor's bytes and its alignment padding, and
// checks that fill wrote exactly what the table announced.
func writeTensorData(g *ggufWriter, t tensor) error {
	if g.err != nil {
		return g.err
	}
	start := g.n
	if err := t.fill(writerFunc(func(b []byte) (int, error) {
		g.bytes(b)
		return len(b), g.err
	})); err != nil {
		return fmt.Errorf("gguf: tensor %s: %w", t.name, err)
	}
	if got := g.n - start; got != t.size() && g.err == nil {
		return fmt.Errorf("gguf: tensor %s: wrote %d bytes, want %d", t.name, got, t.size())
	}
	g.bytes(make([]byte, padding(t.size())))
	return nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// half converts a float32 to IEEE 754 binary16 bits, rounding to nearest
// even, with subnormals; values past the range become infinities.
func half(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case b&0x7fffffff == 0:
		return sign
	case exp >= 31:
		return sign | 0x7c00
	case exp <= 0:
		if exp < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint32(14 - exp)
		return sign | uint16(roundShift(mant, shift))
	}
	return sign | uint16(roundShift(uint32(exp)<<23|mant, 13))
}

// roundShift is v >> shift rounded to nearest, ties to even. A carry out of
// the mantissa correctly moves into the exponent.
func roundShift(v, shift uint32) uint32 {
	h := v >> shift
	rem := v & (1<<shift - 1)
	mid := uint32(1) << (shift - 1)
	if rem > mid || (rem == mid && h&1 == 1) {
		h++
	}
	return h
}
