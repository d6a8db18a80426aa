"""rb_declare_callbacks() (kernel/mm/rbtree.py) built inside the test.

The VMA tree's callbacks are made once, when kernel/mm/mmap.py is imported;
these tests make their own at run time, so that what the generated
propagate/copy/rotate callbacks do is checked on its own: after every
insertion and erasure, each node's augmented value must equal compute(node)
(Linux's RB_DECLARE_CALLBACKS contract), and propagate must stop where told.
"""

import random

from kernel.mm.rbtree import (
    RbAugmentCallbacks, RbNode, RbRoot, rb_declare_callbacks, rb_erase_augmented,
    rb_insert_augmented, rb_link_node,
)


class Node(RbNode):
    def __init__(self, key):
        super().__init__()
        self.key = key
        self.size = 1


def compute_size(node):
    left, right = node.rb_left, node.rb_right
    return 1 + (left.size if left is not None else 0) + (right.size if right is not None else 0)


def insert(root, node, cb):
    parent, link_left, cur = None, True, root.rb_node
    while cur is not None:
        parent = cur
        link_left = node.key < cur.key
        cur.size += 1                       # the insertion path grows by one
        cur = cur.rb_left if link_left else cur.rb_right
    rb_link_node(node, parent, link_left, root)
    node.size = 1
    rb_insert_augmented(node, root, cb)


def nodes(root):
    out, stack = [], [root.rb_node]
    while stack:
        n = stack.pop()
        if n is not None:
            out.append(n)
            stack += [n.rb_left, n.rb_right]
    return out


def check(root):
    for n in nodes(root):
        assert n.size == compute_size(n), n.key


def test_callbacks_keep_subtree_sizes_exact():
    cb = rb_declare_callbacks(compute_size, "size")
    assert isinstance(cb, RbAugmentCallbacks)
    rnd = random.Random(11)
    root = RbRoot()
    live = {}
    keys = list(range(300))
    rnd.shuffle(keys)
    for k in keys:
        live[k] = Node(k)
        insert(root, live[k], cb)
        check(root)
    assert root.rb_node.size == 300
    for k in rnd.sample(keys, 200):
        rb_erase_augmented(live.pop(k), root, cb)
        check(root)
    assert root.rb_node.size == 100
    for k in range(1000, 1050):              # ascending: many rotations
        live[k] = Node(k)
        insert(root, live[k], cb)
        check(root)
    for k in sorted(live):
        rb_erase_augmented(live.pop(k), root, cb)
        check(root)
    assert root.rb_node is None


def test_copy_and_rotate_callbacks():
    cb = rb_declare_callbacks(compute_size, "size")
    old, new = Node(1), Node(2)
    old.size, new.size = 7, 1
    cb.copy(old, new)
    assert (old.size, new.size) == (7, 7)
    # rotate: new takes old's value, old is recomputed from its children.
    child = Node(0)
    child.size = 3
    old.rb_left, old.rb_right = child, None
    old.size, new.size = 9, 1
    cb.rotate(old, new)
    assert (new.size, old.size) == (9, 4)


def test_propagate_updates_up_to_stop_and_stops_when_unchanged():
    cb = rb_declare_callbacks(compute_size, "size")
    a, b, c = Node(1), Node(2), Node(3)
    # c under b under a, every size stale.
    a.rb_left, b.rb_parent = b, a
    b.rb_left, c.rb_parent = c, b
    for n in (a, b, c):
        n.size = 0
    cb.propagate(c, a)                      # stop before a
    assert (c.size, b.size, a.size) == (1, 2, 0)
    b.size = 0
    cb.propagate(b, None)
    assert (b.size, a.size) == (2, 3)
    # An unchanged value stops the walk: a stale ancestor stays stale.
    a.size = 99
    cb.propagate(c, None)
    assert a.size == 99
