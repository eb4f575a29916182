package realengine

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math"
	"reflect"
	"testing"
)

func TestHalf(t *testing.T) {
	for _, c := range []struct {
		in   float32
		want uint16
	}{
		{0, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3c00},
		{-2, 0xc000},
		{0.5, 0x3800},
		{65504, 0x7bff},           // the largest half
		{65520, 0x7c00},           // rounds past it: infinity
		{0.1, 0x2e66},             // rounded to nearest
		{6.103515625e-05, 0x0400}, // the smallest normal
		{5.9604645e-08, 0x0001},   // the smallest subnormal
		{2.9802322e-08, 0x0000},   // half of it: ties to even, zero
		{1.0009765625, 0x3c01},    // exact
		{1.00048828125, 0x3c00},   // tie between 0x3c00 and 0x3c01: even
		{1.00146484375, 0x3c02},   // tie between 0x3c01 and 0x3c02: even
		{float32(math.Inf(-1)), 0xfc00},
	} {
		if got := half(c.in); got != c.want {
			t.Errorf("half(%g) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
}

// ggufReader reads back what writeGGUF wrote, to check the layout.
type ggufReader struct {
	r   *bytes.Reader
	err error
}

func (g *ggufReader) u32() uint32 {
	var v uint32
	if g.err == nil {
		g.err = binary.Read(g.r, binary.LittleEndian, &v)
	}
	return v
}

func (g *ggufReader) u64() uint64 {
	var v uint64
	if g.err == nil {
		g.err = binary.Read(g.r, binary.LittleEndian, &v)
	}
	return v
}

func (g *ggufReader) str() string {
	b := make([]byte, g.u64())
	if g.err == nil {
		_, g.err = io.ReadFull(g.r, b)
	}
	return string(b)
}

func (g *ggufReader) value(typ uint32) any {
	switch typ {
	case ggufUint32:
		return g.u32()
	case ggufInt32:
		return int32(g.u32())
	case ggufFloat32:
		return math.Float32frombits(g.u32())
	case ggufBool:
		b, _ := g.r.ReadByte()
		return b == 1
	case ggufString:
		return g.str()
	case ggufArray:
		elem, n := g.u32(), g.u64()
		if elem == ggufString {
			out := make([]string, n)
			for i := range out {
				out[i] = g.str()
			}
			return out
		}
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(g.u32())
		}
		return out
	}
	return nil
}

func TestWriteGGUFLayout(t *testing.T) {
	meta := []kv{
		{"general.architecture", "llama"},
		{"n", uint32(7)},
		{"i", int32(-3)},
		{"f", float32(1.5)},
		{"b", true},
		{"s", []string{"a", "bc"}},
		{"t", []int32{1, -1}},
	}
	data := func(b ...byte) func(io.Writer) error {
		return func(w io.Writer) error { _, err := w.Write(b); return err }
	}
	tensors := []tensor{
		{name: "x", dims: []uint64{3}, typ: ggmlF32, fill: data(make([]byte, 12)...)},
		{name: "y", dims: []uint64{2, 3}, typ: ggmlF16, fill: data(bytes.Repeat([]byte{1, 2}, 6)...)},
	}
	var buf bytes.Buffer
	if err := writeGGUF(&buf, meta, tensors); err != nil {
		t.Fatal(err)
	}
	g := &ggufReader{r: bytes.NewReader(buf.Bytes())}
	if magic, version := g.u32(), g.u32(); magic != ggufMagic || version != 3 {
		t.Fatalf("header %#x v%d", magic, version)
	}
	if nt, nkv := g.u64(), g.u64(); nt != 2 || nkv != uint64(len(meta)) {
		t.Fatalf("counts: %d tensors, %d keys", nt, nkv)
	}
	for _, want := range meta {
		key := g.str()
		got := g.value(g.u32())
		if key != want.key || !reflect.DeepEqual(got, want.value) {
			t.Errorf("metadata %s = %#v, want %s = %#v", key, got, want.key, want.value)
		}
	}
	var offsets []uint64
	for _, want := range tensors {
		name, nd := g.str(), g.u32()
		dims := make([]uint64, nd)
		for i := range dims {
			dims[i] = g.u64()
		}
		typ, off := g.u32(), g.u64()
		if name != want.name || !reflect.DeepEqual(dims, want.dims) || typ != want.typ {
			t.Errorf("tensor %s %v type %d, want %s %v type %d", name, dims, typ, want.name, want.dims, want.typ)
		}
		offsets = append(offsets, off)
	}
	if g.err != nil {
		t.Fatal(g.err)
	}
	start := buf.Len() - g.r.Len()
	start += int(padding(uint64(start)))
	if !reflect.DeepEqual(offsets, []uint64{0, 32}) {
		t.Errorf("offsets %v, want [0 32] (the 12-byte tensor padded to 32)", offsets)
	}
	if got := buf.Bytes()[start+32 : start+44]; !bytes.Equal(got, bytes.Repeat([]byte{1, 2}, 6)) {
		t.Errorf("second tensor's data %v", got)
	}
	if buf.Len() != start+64 {
		t.Errorf("file is %d bytes, want %d (data padded to the alignment)", buf.Len(), start+64)
	}
}

func TestWriteGGUFChecksTensorSize(t *testing.T) {
	short := tensor{name: "x", dims: []uint64{4}, typ: ggmlF32, fill: func(w io.Writer) error {
		_, err := w.Write(make([]byte, 8))
		return err
	}}
	if err := writeGGUF(io.Discard, nil, []tensor{short}); err == nil {
		t.Fatal("a tensor that wrote 8 of 16 bytes was accepted")
	}
}

// tensorDigest hashes every tensor a model writes, without the vocabulary.
func tensorDigest(t *testing.T, m Model) [32]byte {
	t.Helper()
	h := sha256.New()
	for _, ts := range m.tensors() {
		if err := ts.fill(h); err != nil {
			t.Fatal(err)
		}
	}
	return [32]byte(h.Sum(nil))
}

func TestModelWeightsFollowTheSeed(t *testing.T) {
	tiny := Model{Seed: 1, Layers: 1, Embedding: 8, Heads: 2, KVHeads: 2, FeedForward: 16, ContextLength: 64, RopeFreqBase: 10000}
	other := tiny
	other.Seed = 2
	a, b, c := tensorDigest(t, tiny), tensorDigest(t, tiny), tensorDigest(t, other)
	if a != b {
		t.Error("the same model wrote different weights twice")
	}
	if a == c {
		t.Error("seeds 1 and 2 wrote the same weights")
	}
	twin := Model{Seed: 1, Layers: 1, Embedding: 8, Heads: 2, KVHeads: 2, FeedForward: 16, ContextLength: 64, RopeFreqBase: 10000}
	if tiny.FileName() == other.FileName() || tiny.FileName() != twin.FileName() {
		t.Errorf("file names %s, %s and %s do not follow the parameters", tiny.FileName(), other.FileName(), twin.FileName())
	}
}
