"""Tests for kernel.mm.rbtree: invariants, augmentation, iteration order."""

import bisect
import math

import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, invariant,
                                 precondition, rule)

from kernel.mm.rbtree import (RbAugmentCallbacks, RbNode, RbRoot,
                              rb_declare_callbacks, rb_erase,
                              rb_erase_augmented, rb_first,
                              rb_insert_augmented, rb_insert_color, rb_last,
                              rb_link_node, rb_next, rb_prev, rb_replace_node)


# ---------------------------------------------------------------------------
# Test node types and callbacks.
# ---------------------------------------------------------------------------

class KeyNode(RbNode):
    __slots__ = ('key',)

    def __init__(self, key):
        super().__init__()
        self.key = key

    def __repr__(self):
        return 'KeyNode(%r)' % (self.key,)


class AugNode(KeyNode):
    """Three augmented values with different early-stop behaviour.

    subtree_max often settles part-way up, subtree_size never does, and
    subtree_odd (size mod 2) has only two values, so propagate() stops early
    as often as possible and any callback issued out of order leaves a stale
    value somewhere above.
    """

    __slots__ = ('subtree_max', 'subtree_size', 'subtree_odd')

    def __init__(self, key):
        super().__init__(key)
        self.subtree_max = None
        self.subtree_size = None
        self.subtree_odd = None

    def __repr__(self):
        return 'AugNode(%r)' % (self.key,)


def compute_max(node):
    value = node.key
    left, right = node.rb_left, node.rb_right
    if left is not None and left.subtree_max > value:
        value = left.subtree_max
    if right is not None and right.subtree_max > value:
        value = right.subtree_max
    return value


def compute_size(node):
    left, right = node.rb_left, node.rb_right
    return (1 + (left.subtree_size if left is not None else 0)
            + (right.subtree_size if right is not None else 0))


def compute_odd(node):
    left, right = node.rb_left, node.rb_right
    return ((1 + (left.subtree_odd if left is not None else 0)
             + (right.subtree_odd if right is not None else 0)) & 1)


def combine(*parts):
    """One callbacks object maintaining several augmented values."""
    def propagate(node, stop):
        for part in parts:
            part.propagate(node, stop)

    def copy(old, new):
        for part in parts:
            part.copy(old, new)

    def rotate(old, new):
        for part in parts:
            part.rotate(old, new)

    return RbAugmentCallbacks(propagate, copy, rotate)


AUG_CB = combine(rb_declare_callbacks(compute_max, 'subtree_max'),
                 rb_declare_callbacks(compute_size, 'subtree_size'),
                 rb_declare_callbacks(compute_odd, 'subtree_odd'))


# ---------------------------------------------------------------------------
# Tree operations as a caller (mm/mmap.c) would write them.
# ---------------------------------------------------------------------------

def insert(root, node, augment=None):
    """Descend by key (equal keys go right), link, rebalance."""
    parent = None
    left = False
    link = root.rb_node
    key = node.key
    while link is not None:
        parent = link
        left = key < link.key
        link = link.rb_left if left else link.rb_right
    rb_link_node(node, parent, left, root)
    if augment is None:
        rb_insert_color(node, root)
    else:
        # Values left over from an earlier life must not stop propagate early.
        node.subtree_max = None
        node.subtree_size = None
        node.subtree_odd = None
        augment.propagate(node, None)
        rb_insert_augmented(node, root, augment)


def erase(root, node, augment=None):
    if augment is None:
        rb_erase(node, root)
    else:
        rb_erase_augmented(node, root, augment)


# ---------------------------------------------------------------------------
# The checker.
# ---------------------------------------------------------------------------

def inorder(root):
    """In-order node list by an explicit stack, independent of rb_next()."""
    out = []
    stack = []
    node = root.rb_node
    while stack or node is not None:
        while node is not None:
            stack.append(node)
            node = node.rb_left
        node = stack.pop()
        out.append(node)
        node = node.rb_right
    return out


def tree_height(root):
    best = 0
    stack = [(root.rb_node, 1)] if root.rb_node is not None else []
    while stack:
        node, depth = stack.pop()
        best = max(best, depth)
        for child in (node.rb_left, node.rb_right):
            if child is not None:
                stack.append((child, depth + 1))
    return best


def brute_force_aug(node):
    """(max key, size, size mod 2) of node's subtree, from scratch."""
    best = node.key
    size = 0
    stack = [node]
    while stack:
        n = stack.pop()
        size += 1
        if n.key > best:
            best = n.key
        if n.rb_left is not None:
            stack.append(n.rb_left)
        if n.rb_right is not None:
            stack.append(n.rb_right)
    return best, size, size & 1


def check_tree(root, augmented=False):
    """Assert all red-black and augment invariants; return in-order nodes."""
    top = root.rb_node
    if top is None:
        return []
    assert top.rb_parent is None, 'root has a parent'
    assert not top.rb_red, 'root is red'

    black_heights = set()
    stack = [(top, 1)]
    while stack:
        node, blacks = stack.pop()
        for child in (node.rb_left, node.rb_right):
            if child is None:
                black_heights.add(blacks)
                continue
            assert child.rb_parent is node, (
                'bad parent pointer at %r' % (child,))
            assert not (node.rb_red and child.rb_red), (
                'red %r has red child %r' % (node, child))
            stack.append((child, blacks + (0 if child.rb_red else 1)))
    assert len(black_heights) == 1, 'black heights differ: %r' % black_heights

    nodes = inorder(root)
    keys = [n.key for n in nodes]
    assert keys == sorted(keys), 'in-order walk is not sorted'

    n = len(nodes)
    assert tree_height(root) <= 2 * math.log2(n + 1)

    if augmented:
        for node in nodes:
            cached = (node.subtree_max, node.subtree_size, node.subtree_odd)
            assert cached == brute_force_aug(node), (
                'stale augmented value at %r' % (node,))
    return nodes


def check_iteration(root, model):
    """rb_first/rb_next and rb_last/rb_prev must walk exactly the model."""
    forward = []
    node = rb_first(root)
    while node is not None:
        forward.append(node)
        node = rb_next(node)
    assert forward == model

    backward = []
    node = rb_last(root)
    while node is not None:
        backward.append(node)
        node = rb_prev(node)
    assert backward == model[::-1]


# ---------------------------------------------------------------------------
# The checker must be able to fail.
# ---------------------------------------------------------------------------

def build(keys, cls=AugNode, augment=AUG_CB):
    root = RbRoot()
    nodes = [cls(k) for k in keys]
    for node in nodes:
        insert(root, node, augment)
    return root, nodes


def test_checker_detects_red_root():
    root, _ = build(range(7))
    root.rb_node.rb_red = True
    with pytest.raises(AssertionError, match='root is red'):
        check_tree(root, augmented=True)


def test_checker_detects_red_red():
    root, nodes = build(range(31))
    node = next(n for n in nodes if n.rb_red and n.rb_parent.rb_parent)
    node.rb_parent.rb_red = True
    with pytest.raises(AssertionError, match='has red child'):
        check_tree(root, augmented=True)


def test_checker_detects_unequal_black_height():
    root, nodes = build(range(31))
    node = next(n for n in nodes if n.rb_red)
    node.rb_red = False
    with pytest.raises(AssertionError, match='black heights differ'):
        check_tree(root, augmented=True)


def test_checker_detects_bad_parent_and_stale_value():
    root, nodes = build(range(15))
    victim = nodes[3]
    saved = victim.rb_parent
    victim.rb_parent = nodes[10]
    with pytest.raises(AssertionError, match='parent'):
        check_tree(root, augmented=True)
    victim.rb_parent = saved
    check_tree(root, augmented=True)
    victim.subtree_size += 1
    with pytest.raises(AssertionError, match='stale'):
        check_tree(root, augmented=True)


def test_checker_detects_unsorted():
    root, nodes = build(range(15))
    nodes[0].key, nodes[14].key = nodes[14].key, nodes[0].key
    with pytest.raises(AssertionError):
        check_tree(root)


# ---------------------------------------------------------------------------
# Small deterministic cases.
# ---------------------------------------------------------------------------

def test_empty_tree():
    root = RbRoot()
    assert rb_first(root) is None
    assert rb_last(root) is None
    assert check_tree(root) == []


def test_new_node_is_red_and_unlinked():
    node = KeyNode(1)
    assert node.rb_red is True
    assert node.rb_parent is node.rb_left is node.rb_right is None


def test_single_node_insert_erase():
    root = RbRoot()
    node = AugNode(5)
    insert(root, node, AUG_CB)
    assert root.rb_node is node and not node.rb_red
    assert (node.subtree_max, node.subtree_size) == (5, 1)
    assert rb_next(node) is None and rb_prev(node) is None
    erase(root, node, AUG_CB)
    assert root.rb_node is None


def test_rb_replace_node():
    root, nodes = build(range(0, 40, 2), cls=KeyNode, augment=None)
    for pick in (0, 7, None, -1):
        victim = root.rb_node if pick is None else nodes[pick]
        new = KeyNode(victim.key)
        rb_replace_node(victim, new, root)
        nodes[nodes.index(victim)] = new
        assert check_tree(root) == nodes
        check_iteration(root, nodes)


def test_declared_callbacks_stop_early():
    """propagate() stops once a value is unchanged, short of the root."""
    calls = []

    def counting_max(node):
        calls.append(node)
        return compute_max(node)

    cb = rb_declare_callbacks(counting_max, 'subtree_max')
    root, nodes = build(range(0, 200, 2), augment=AUG_CB)
    leaf = next(n for n in nodes if n.rb_left is None and n.rb_right is None
                and n.rb_parent.rb_right is not n)
    leaf.key -= 1       # still in order, cannot change any ancestor's maximum
    leaf.subtree_max = None
    cb.propagate(leaf, None)
    assert calls == [leaf, leaf.rb_parent]
    check_tree(root, augmented=True)


# ---------------------------------------------------------------------------
# Random interleavings against a sorted-list model.
# ---------------------------------------------------------------------------

class RbTreeMachine(RuleBasedStateMachine):
    """Inserts, erases and re-inserts of erased nodes, checked every step."""

    NODE = KeyNode
    AUGMENT = None

    def __init__(self):
        super().__init__()
        self.root = RbRoot()
        self.model = []        # nodes in key order; ties in insertion order
        self.erased = []       # nodes with stale links, fit for reuse

    def _insert(self, node):
        insert(self.root, node, self.AUGMENT)
        keys = [n.key for n in self.model]
        self.model.insert(bisect.bisect_right(keys, node.key), node)

    @rule(key=st.integers(-1000, 1000))
    def insert_new(self, key):
        self._insert(self.NODE(key))

    @rule(key=st.integers(0, 8))
    def insert_duplicate_prone(self, key):
        self._insert(self.NODE(key))

    @precondition(lambda self: self.model)
    @rule(index=st.integers(min_value=0))
    def erase_some(self, index):
        node = self.model.pop(index % len(self.model))
        erase(self.root, node, self.AUGMENT)
        self.erased.append(node)

    @precondition(lambda self: self.erased)
    @rule(index=st.integers(min_value=0))
    def reinsert(self, index):
        self._insert(self.erased.pop(index % len(self.erased)))

    @invariant()
    def tree_matches_model(self):
        nodes = check_tree(self.root, augmented=self.AUGMENT is not None)
        assert nodes == self.model
        check_iteration(self.root, self.model)


class AugRbTreeMachine(RbTreeMachine):
    NODE = AugNode
    AUGMENT = AUG_CB


_machine_settings = settings(max_examples=150, stateful_step_count=60,
                             deadline=None)
TestRbTreePlain = RbTreeMachine.TestCase
TestRbTreePlain.settings = _machine_settings
TestRbTreeAugmented = AugRbTreeMachine.TestCase
TestRbTreeAugmented.settings = _machine_settings


@settings(max_examples=100, deadline=None)
@given(keys=st.lists(st.integers(0, 60), max_size=70), data=st.data())
def test_fill_then_drain_in_random_order(keys, data):
    root = RbRoot()
    model = []
    for key in keys:
        node = AugNode(key)
        insert(root, node, AUG_CB)
        model.insert(bisect.bisect_right([n.key for n in model], key), node)
        assert check_tree(root, augmented=True) == model
    check_iteration(root, model)
    for node in data.draw(st.permutations(model)):
        erase(root, node, AUG_CB)
        model.remove(node)
        assert check_tree(root, augmented=True) == model
    check_iteration(root, model)
    assert root.rb_node is None


# ---------------------------------------------------------------------------
# Large deterministic case: sequential keys are the classic worst case for an
# unbalanced tree.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('augment', [None, AUG_CB], ids=['plain', 'augmented'])
def test_sequential_10000_then_erase_every_other(augment):
    n = 10000
    cls = KeyNode if augment is None else AugNode
    root, nodes = build(range(n), cls=cls, augment=augment)
    assert check_tree(root, augmented=augment is not None) == nodes
    check_iteration(root, nodes)
    assert tree_height(root) <= 2 * math.log2(n + 1)

    for node in nodes[::2]:
        erase(root, node, augment)
    survivors = nodes[1::2]
    assert check_tree(root, augmented=augment is not None) == survivors
    check_iteration(root, survivors)
    assert tree_height(root) <= 2 * math.log2(len(survivors) + 1)
    if augment is not None:
        top = root.rb_node
        assert (top.subtree_max, top.subtree_size) == (n - 1, n // 2)
