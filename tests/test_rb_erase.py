"""rb_erase() (kernel/mm/rbtree.py, lib/rbtree.c's ____rb_erase_color):
deterministic trees erased in many orders, every red-black property and
parent link checked after each erasure.  (The property tests in
test_rbtree.py draw their cases at random; these cover every rebalancing
case of erase on every run.)"""

import random

from kernel.mm.rbtree import RbNode, RbRoot, rb_erase, rb_insert_color, rb_link_node
from test_vma import _rb_check


class Node(RbNode):
    def __init__(self, key):
        super().__init__()
        self.key = key


def insert(root, node):
    parent, left, cur = None, True, root.rb_node
    while cur is not None:
        parent, left = cur, node.key < cur.key
        cur = cur.rb_left if left else cur.rb_right
    rb_link_node(node, parent, left, root)
    rb_insert_color(node, root)


def check(root, keys):
    if root.rb_node is not None:
        assert root.rb_node.rb_parent is None and not root.rb_node.rb_red
    _, nodes = _rb_check(root.rb_node, None)
    assert [n.key for n in nodes] == sorted(keys)


def test_erase_in_many_orders():
    for seed in range(40):
        rnd = random.Random(seed)
        n = rnd.choice((7, 16, 33, 64))
        keys = list(range(n))
        order = {0: keys, 1: keys[::-1]}.get(seed % 4, rnd.sample(keys, n))
        root = RbRoot()
        nodes = {k: Node(k) for k in keys}
        for k in order:
            insert(root, nodes[k])
        live = set(keys)
        erase = {0: keys, 1: keys[::-1], 2: keys[::2] + keys[1::2]}.get(seed % 5, None)
        for k in erase or rnd.sample(keys, n):
            rb_erase(nodes[k], root)
            live.discard(k)
            check(root, live)
        assert root.rb_node is None
