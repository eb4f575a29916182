package engine

import "github.com/mrqa-dev/mrqa/internal/splitmix"

// Mix folds x into the hash h (a splitmix64 finaliser over h^x). Block
// hashes are chains of Mix, so a block's identity depends on every token
// before it, as in vLLM's prefix caching.
func Mix(h, x uint64) uint64 {
	return splitmix.Finalize(h ^ (x + splitmix.Gamma + (h << 6) + (h >> 2)))
}

// Fold adds one token to a block's running accumulator: a multiply-add,
// cheap per token; Mix then finalises the block once.
func Fold(acc uint64, token int) uint64 {
	return (acc ^ uint64(token)) * 0x100000001b3
}

// HashBlock chains a block after prev: the hash of the block whose tokens
// were folded into acc (starting from 0).
func HashBlock(prev, acc uint64) uint64 { return Mix(prev, acc) }

// HashTokens returns the chained hashes of every full block of tokens,
// starting from seed (0 for a prompt's first block).
func HashTokens(seed uint64, tokens []int, blockSize int) []uint64 {
	out := make([]uint64, 0, len(tokens)/blockSize)
	h := seed
	for i := 0; i+blockSize <= len(tokens); i += blockSize {
		acc := uint64(0)
		for _, t := range tokens[i : i+blockSize] {
			acc = Fold(acc, t)
		}
		h = HashBlock(h, acc)
		out = append(out, h)
	}
	return out
}

const none = -1

// list is an intrusive doubly linked list over slot indices, used for the
// GPU free queue and the offload tier's LRU order; O(1) everything.
type list struct {
	prev, next []int32
	head, tail int32
	n          int
}

func newList(size int) list {
	l := list{prev: make([]int32, size), next: make([]int32, size), head: none, tail: none}
	for i := range l.prev {
		l.prev[i], l.next[i] = none, none
	}
	return l
}

func (l *list) pushBack(i int32) {
	l.prev[i], l.next[i] = l.tail, none
	if l.tail != none {
		l.next[l.tail] = i
	} else {
		l.head = i
	}
	l.tail = i
	l.n++
}

func (l *list) pushFront(i int32) {
	l.prev[i], l.next[i] = none, l.head
	if l.head != none {
		l.prev[l.head] = i
	} else {
		l.tail = i
	}
	l.head = i
	l.n++
}

func (l *list) remove(i int32) {
	p, n := l.prev[i], l.next[i]
	if p != none {
		l.next[p] = n
	} else {
		l.head = n
	}
	if n != none {
		l.prev[n] = p
	} else {
		l.tail = p
	}
	l.prev[i], l.next[i] = none, none
	l.n--
}

// block is one GPU KV block. A block with ref 0 sits in the free queue; if
// it is hashed it is still a prefix-cache entry until it is reused.
type block struct {
	hash   uint64
	hashed bool
	ref    int32
}

// Cache is the GPU KV cache: a pool of blocks, a prefix-cache index from
// block hash to block, a free queue in eviction order (front evicted first),
// and an optional offload tier that receives evicted blocks.
type Cache struct {
	blocks  []block
	index   map[uint64]int32
	free    list
	offload *Tier
}

// NewCache makes a cache of n blocks, all free, with an offload tier of
// tierBlocks blocks (0: none).
func NewCache(n, tierBlocks int) *Cache {
	c := &Cache{blocks: make([]block, n), index: make(map[uint64]int32), free: newList(n)}
	for i := range c.blocks {
		c.free.pushBack(int32(i))
	}
	if tierBlocks > 0 {
		c.offload = NewTier(tierBlocks)
	}
	return c
}

// Blocks is the pool size; Free counts blocks with no request holding them
// (cached or empty); Used is the rest.
func (c *Cache) Blocks() int { return len(c.blocks) }
func (c *Cache) Free() int   { return c.free.n }
func (c *Cache) Used() int   { return len(c.blocks) - c.free.n }

// Tier returns the offload tier, nil when there is none.
func (c *Cache) Tier() *Tier { return c.offload }

// Lookup returns the cached block holding hash h.
func (c *Cache) Lookup(h uint64) (int32, bool) {
	b, ok := c.index[h]
	return b, ok
}

// Acquire takes a reference on block b (a prefix hit), pinning it.
func (c *Cache) Acquire(b int32) {
	if c.blocks[b].ref == 0 {
		c.free.remove(b)
	}
	c.blocks[b].ref++
}

// Allocate takes the free block at the front of the queue, evicting its
// prefix-cache entry (into the offload tier, if any). ok is false when no
// block is free.
func (c *Cache) Allocate() (int32, bool) {
	b := c.free.head
	if b == none {
		return 0, false
	}
	c.free.remove(b)
	blk := &c.blocks[b]
	if blk.hashed {
		if c.index[blk.hash] == b {
			delete(c.index, blk.hash)
			if c.offload != nil {
				c.offload.Put(blk.hash)
			}
		}
		blk.hashed = false
	}
	blk.ref = 1
	return b, true
}

// SetHash records that block b now holds the full block with hash h, making
// it a prefix-cache entry unless another block already holds h.
func (c *Cache) SetHash(b int32, h uint64) {
	blk := &c.blocks[b]
	if blk.hashed {
		return
	}
	if _, dup := c.index[h]; dup {
		return
	}
	blk.hash, blk.hashed = h, true
	c.index[h] = b
}

// Release drops one reference on each block, last block first, so that a
// request's tail blocks are evicted before its head (vLLM's order: a later
// request sharing the prefix keeps the longest possible hit). Unhashed
// blocks go to the front of the queue: they cache nothing.
func (c *Cache) Release(bs []int32) {
	for i := len(bs) - 1; i >= 0; i-- {
		b := bs[i]
		blk := &c.blocks[b]
		blk.ref--
		if blk.ref > 0 {
			continue
		}
		if blk.hashed {
			c.free.pushBack(b)
		} else {
			c.free.pushFront(b)
		}
	}
}

// Reset empties the prefix cache: every free block forgets its hash, and the
// offload tier is emptied. Blocks held by requests keep theirs.
func (c *Cache) Reset() {
	for b := c.free.head; b != none; b = c.free.next[b] {
		blk := &c.blocks[b]
		if blk.hashed {
			if c.index[blk.hash] == b {
				delete(c.index, blk.hash)
			}
			blk.hashed = false
		}
	}
	if c.offload != nil {
		c.offload.Reset()
	}
}

// Tier is the offload tier: a set of block hashes in LRU order with a fixed
// capacity. It stores identities only; the engine charges load time.
type Tier struct {
	slot  map[uint64]int32
	hash  []uint64
	order list
	spare []int32
}

// NewTier makes an empty tier of n blocks.
func NewTier(n int) *Tier {
	t := &Tier{slot: make(map[uint64]int32), hash: make([]uint64, n), order: newList(n)}
	t.spare = make([]int32, n)
	for i := range t.spare {
		t.spare[i] = int32(n - 1 - i)
	}
	return t
}

// Len is the number of blocks stored.
func (t *Tier) Len() int { return t.order.n }

// Put stores h as most recently used, evicting the least recently used
// block when full.
func (t *Tier) Put(h uint64) {
	if s, ok := t.slot[h]; ok {
		t.order.remove(s)
		t.order.pushBack(s)
		return
	}
	var s int32
	if len(t.spare) > 0 {
		s = t.spare[len(t.spare)-1]
		t.spare = t.spare[:len(t.spare)-1]
	} else {
		s = t.order.head
		t.order.remove(s)
		delete(t.slot, t.hash[s])
	}
	t.hash[s] = h
	t.slot[h] = s
	t.order.pushBack(s)
}

// Has reports whether h is stored, and marks it recently used.
func (t *Tier) Has(h uint64) bool {
	s, ok := t.slot[h]
	if ok {
		t.order.remove(s)
		t.order.pushBack(s)
	}
	return ok
}

// Reset empties the tier.
func (t *Tier) Reset() {
	for s := t.order.head; s != none; {
		next := t.order.next[s]
		t.order.remove(s)
		delete(t.slot, t.hash[s])
		t.spare = append(t.spare, s)
		s = next
	}
}
