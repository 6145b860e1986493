package cache

import "sync/atomic"

// node is one resident key in a policy's queues. A keyed Policy allocates its
// own nodes; the Cache's entries embed one each, so that the policy's links
// cost no allocation and no map slot of their own (see linked).
//
// A node's key never changes, and neither does its weight once its owner has
// published it anywhere another goroutine can read it: policies write weight
// only through list.resize, which the Cache never calls on a published entry.
type node[K comparable] struct {
	key        K
	weight     int64
	prev, next *node[K] // nil when the node is in no queue
	queue      uint8    // which queue of the policy holds it (policy-specific)
	uses       uint8    // recent uses, capped (S3-FIFO)
	// seq is not the policy's, and policies never touch it: the Cache keeps
	// there the sequence count of its in-place value updates (see value.go),
	// in a word that would otherwise be padding.
	seq atomic.Uint32
}

// list is a circular doubly linked queue of nodes with a sentinel; front is the
// oldest (least recent) end, back the newest. The zero value is not usable: call
// init. It also keeps the total weight of its nodes.
type list[K comparable] struct {
	root   node[K]
	len    int
	weight int64
}

func (l *list[K]) init() *list[K] {
	l.root.prev, l.root.next = &l.root, &l.root
	return l
}

// front returns the oldest node, or nil.
func (l *list[K]) front() *node[K] {
	if l.len == 0 {
		return nil
	}
	return l.root.next
}

// pushBack appends n as the newest node.
func (l *list[K]) pushBack(n *node[K]) {
	at := l.root.prev
	n.prev, n.next = at, &l.root
	at.next, l.root.prev = n, n
	l.len++
	l.weight += n.weight
}

// remove unlinks n, which must be in l.
func (l *list[K]) remove(n *node[K]) {
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
	l.len--
	l.weight -= n.weight
}

// moveToBack makes n, which must be in l, the newest node.
func (l *list[K]) moveToBack(n *node[K]) {
	if l.root.prev == n {
		return
	}
	l.remove(n)
	l.pushBack(n)
}

// resize changes the weight of n, which must be in l.
func (l *list[K]) resize(n *node[K], weight int64) {
	l.weight += weight - n.weight
	n.weight = weight
}

// swap puts n, which is in no queue, in the place of old, which must be in l,
// with old's queue and uses; old leaves l. l's weight follows n's.
func (l *list[K]) swap(old, n *node[K]) {
	n.prev, n.next = old.prev, old.next
	n.prev.next, n.next.prev = n, n
	n.queue, n.uses = old.queue, old.uses
	old.prev, old.next = nil, nil
	l.weight += n.weight - old.weight
}

// takeFront moves every node of o, in order, ahead of l's nodes, setting their
// queue to q, and leaves o empty.
func (l *list[K]) takeFront(o *list[K], q uint8) {
	if o.len == 0 {
		return
	}
	for n := o.root.next; n != &o.root; n = n.next {
		n.queue = q
	}
	first, last := o.root.next, o.root.prev
	last.next, l.root.next.prev = l.root.next, last
	l.root.next, first.prev = first, &l.root
	l.len += o.len
	l.weight += o.weight
	o.init()
	o.len, o.weight = 0, 0
}
