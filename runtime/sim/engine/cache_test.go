package engine

import "testing"

func TestCacheEvictsLRUTailFirst(t *testing.T) {
	c := NewCache(4, 0)
	var bs []int32
	for i := 0; i < 4; i++ {
		b, ok := c.Allocate()
		if !ok {
			t.Fatalf("allocate %d failed", i)
		}
		c.SetHash(b, uint64(100+i))
		bs = append(bs, b)
	}
	if _, ok := c.Allocate(); ok {
		t.Fatal("allocated a fifth block from a pool of four")
	}
	c.Release(bs) // a request's blocks: the tail is freed first, so evicted first
	want := []uint64{103, 102, 101, 100}
	for i, h := range want {
		if _, ok := c.Lookup(h); !ok {
			t.Fatalf("step %d: hash %d gone before its turn", i, h)
		}
		if _, ok := c.Allocate(); !ok {
			t.Fatalf("step %d: allocate failed", i)
		}
		if _, ok := c.Lookup(h); ok {
			t.Errorf("step %d: hash %d should have been evicted next", i, h)
		}
	}
}

func TestCacheReuseRefreshesLRU(t *testing.T) {
	c := NewCache(2, 0)
	a, _ := c.Allocate()
	c.SetHash(a, 1)
	b, _ := c.Allocate()
	c.SetHash(b, 2)
	c.Release([]int32{a})
	c.Release([]int32{b}) // free queue: a, b
	c.Acquire(a)          // a prefix hit pins a again ...
	c.Release([]int32{a}) // ... and its release makes it most recent: b, a
	if _, ok := c.Allocate(); !ok {
		t.Fatal("allocate failed")
	}
	if _, ok := c.Lookup(2); ok {
		t.Error("block 2 (least recently used) survived")
	}
	if _, ok := c.Lookup(1); !ok {
		t.Error("block 1 (recently hit) was evicted")
	}
}

func TestCachePinning(t *testing.T) {
	c := NewCache(3, 0)
	p, _ := c.Allocate()
	c.SetHash(p, 7)
	q, _ := c.Allocate()
	c.SetHash(q, 8)
	c.Release([]int32{q})
	c.Acquire(q) // pinned by a second request
	if c.Free() != 1 || c.Used() != 2 {
		t.Fatalf("free %d used %d, want 1 and 2", c.Free(), c.Used())
	}
	if _, ok := c.Allocate(); !ok {
		t.Fatal("the one free block was not allocatable")
	}
	if _, ok := c.Allocate(); ok {
		t.Fatal("allocated a pinned block")
	}
	for _, h := range []uint64{7, 8} {
		if _, ok := c.Lookup(h); !ok {
			t.Errorf("pinned hash %d lost", h)
		}
	}
}

func TestCacheUnhashedEvictedFirst(t *testing.T) {
	c := NewCache(2, 0)
	a, _ := c.Allocate()
	c.SetHash(a, 1)
	b, _ := c.Allocate() // a partial block: never hashed
	c.Release([]int32{a, b})
	got, _ := c.Allocate()
	if got != b {
		t.Errorf("allocated block %d, want the unhashed block %d", got, b)
	}
	if _, ok := c.Lookup(1); !ok {
		t.Error("hashed block evicted while an unhashed one was free")
	}
}

func TestOffloadRoundTrip(t *testing.T) {
	c := NewCache(1, 2)
	b, _ := c.Allocate()
	c.SetHash(b, 42)
	c.Release([]int32{b})
	if c.Tier().Has(42) {
		t.Fatal("tier holds a block that was never evicted")
	}
	b, _ = c.Allocate() // evicts 42 into the tier
	if _, ok := c.Lookup(42); ok {
		t.Fatal("evicted hash still in the GPU index")
	}
	if !c.Tier().Has(42) {
		t.Fatal("evicted block did not reach the tier")
	}
	// Tier LRU: 42, 43, then 44 pushes out the oldest untouched one.
	c.Tier().Put(43)
	c.Tier().Has(42) // touch
	c.Tier().Put(44)
	if !c.Tier().Has(42) || c.Tier().Has(43) || !c.Tier().Has(44) {
		t.Errorf("tier LRU wrong: 42 %v 43 %v 44 %v", c.Tier().Has(42), c.Tier().Has(43), c.Tier().Has(44))
	}
	c.Release([]int32{b})
	c.Reset()
	if c.Tier().Len() != 0 || c.Tier().Has(42) {
		t.Error("reset left blocks in the tier")
	}
}

func TestCacheReset(t *testing.T) {
	c := NewCache(2, 0)
	a, _ := c.Allocate()
	c.SetHash(a, 1)
	b, _ := c.Allocate()
	c.SetHash(b, 2)
	c.Release([]int32{a})
	c.Reset()
	if _, ok := c.Lookup(1); ok {
		t.Error("free block kept its hash across reset")
	}
	if _, ok := c.Lookup(2); !ok {
		t.Error("block in use lost its hash on reset")
	}
}

func TestHashTokensChains(t *testing.T) {
	a := HashTokens(0, []int{1, 2, 3, 4, 5, 6, 7}, 2)
	b := HashTokens(0, []int{9, 2, 3, 4, 5, 6}, 2)
	if len(a) != 3 || len(b) != 3 {
		t.Fatalf("got %d and %d blocks, want 3 full blocks each", len(a), len(b))
	}
	for i := range a {
		if a[i] == b[i] {
			t.Errorf("block %d: same hash though an earlier token differs", i)
		}
	}
	if c := HashTokens(0, []int{1, 2, 3, 4}, 2); c[0] != a[0] || c[1] != a[1] {
		t.Error("same prefix, different hashes")
	}
}
