"""Intrusive augmented red-black trees: lib/rbtree.c, rbtree_augmented.h.

A red-black tree is a binary search tree whose nodes carry one colour bit,
kept so that these invariants hold after every insert and erase:

  1. every node is red or black;
  2. the root is black;
  3. a red node has no red child;
  4. every path from a node down to a missing child (None) passes the same
     number of black nodes (the node's "black height").

(3) and (4) together mean the longest root-to-leaf path is at most twice the
shortest, so a tree of n nodes is at most 2*log2(n+1) high and lookups,
inserts and erases are O(log n).  Repairing the tree after an update needs at
most two rotations for an insert and three for an erase; everything else is
recolouring, which may climb towards the root.

The tree is intrusive, as in Linux: the links live inside the object being
indexed (vm_area_struct inherits from RbNode, so rb_entry() is the identity)
and no separate node is allocated.  The tree also knows nothing about keys.
The caller walks down from root.rb_node comparing its own keys, then calls
rb_link_node() to hang the new node where the search fell off the tree and
rb_insert_color() to rebalance.

Augmentation lets every node cache a value computed from its own data and its
children's cached values.  mm/mmap.c keeps vma.rb_subtree_gap, the largest
free gap in front of any vma in that subtree, so get_unmapped_area() can
descend only into subtrees that hold a large enough hole and find the lowest
fit in O(log n) instead of walking the whole vma list.  Rotations and erasure
move subtrees around, so the rebalancing code reports each structural change
through an RbAugmentCallbacks object (struct rb_augment_callbacks) and the
cached values stay exact.  rb_declare_callbacks() builds one from a compute()
function, like RB_DECLARE_CALLBACKS.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:       # the annotations are strings (see above): typing is
    from typing import Any, Callable, Optional  # for checkers only (~4 ms of every start)


class RbNode:
    """struct rb_node: links and colour, inherited by the indexed object."""

    # Subclasses add their own __slots__; these names are part of the API.
    __slots__ = ('rb_parent', 'rb_left', 'rb_right', 'rb_red')

    def __init__(self) -> None:
        self.rb_parent: Optional[RbNode] = None
        self.rb_left: Optional[RbNode] = None
        self.rb_right: Optional[RbNode] = None
        self.rb_red = True


class RbRoot:
    """struct rb_root: a tree's handle; rb_node is None when it is empty."""

    __slots__ = ('rb_node',)

    def __init__(self) -> None:
        self.rb_node: Optional[RbNode] = None


class RbAugmentCallbacks:
    """struct rb_augment_callbacks: three plain functions, called unbound.

    propagate(node, stop): recompute the value from node up to, not including,
        stop (None means the root); may return early once a value is unchanged.
    copy(old, new): new takes old's value (new replaces old in place).
    rotate(old, new): after a rotation in which new took old's place, new gets
        old's value and old's is recomputed from its new children.

    Hand-written functions that touch the field directly are faster than the
    getattr()/setattr() ones rb_declare_callbacks() builds, for hot trees.
    """

    __slots__ = ('propagate', 'copy', 'rotate')

    def __init__(self, propagate: Callable[[RbNode, Optional[RbNode]], None],
                 copy: Callable[[RbNode, RbNode], None],
                 rotate: Callable[[RbNode, RbNode], None]) -> None:
        self.propagate = propagate
        self.copy = copy
        self.rotate = rotate


def rb_declare_callbacks(compute: Callable[[Any], Any],
                         attr: str) -> RbAugmentCallbacks:
    """RB_DECLARE_CALLBACKS: callbacks keeping node.<attr> == compute(node)."""

    def propagate(node, stop):
        while node is not stop:
            value = compute(node)
            # An unchanged subtree value cannot change any ancestor's value.
            if getattr(node, attr) == value:
                break
            setattr(node, attr, value)
            node = node.rb_parent

    def copy(old, new):
        setattr(new, attr, getattr(old, attr))

    def rotate(old, new):
        # new now roots exactly the subtree old used to root.
        setattr(new, attr, getattr(old, attr))
        setattr(old, attr, compute(old))

    return RbAugmentCallbacks(propagate, copy, rotate)


def _dummy(a, b):
    pass


# Plain rb_insert_color()/rb_erase() share the augmented code paths.
_dummy_callbacks = RbAugmentCallbacks(_dummy, _dummy, _dummy)


def _change_child(old, new, parent, root):
    """__rb_change_child: make new the child of parent that old was."""
    if parent is None:
        root.rb_node = new
    elif parent.rb_left is old:
        parent.rb_left = new
    else:
        parent.rb_right = new


def _rotate_set_parents(old, new, root, red):
    """__rb_rotate_set_parents: new takes old's parent and colour."""
    parent = old.rb_parent
    new.rb_parent = parent
    new.rb_red = old.rb_red
    old.rb_parent = new
    old.rb_red = red
    _change_child(old, new, parent, root)


def rb_link_node(node: RbNode, parent: Optional[RbNode], left: bool,
                 root: RbRoot) -> None:
    """rb_link_node: hang node as a red leaf of parent (root if None)."""
    node.rb_parent = parent
    node.rb_left = None
    node.rb_right = None
    node.rb_red = True
    if parent is None:
        root.rb_node = node
    elif left:
        parent.rb_left = node
    else:
        parent.rb_right = node


def _insert(node, root, augment_rotate):
    """__rb_insert: restore invariants after a red leaf node was linked in."""
    parent = node.rb_parent
    while True:
        # Loop invariant: node is red; only node/parent may violate (3).
        if parent is None:
            # node is the root; blackening it adds one to every path equally.
            node.rb_red = False
            return
        if not parent.rb_red:
            return
        # A red parent is never the root, so the grandparent exists.
        gparent = parent.rb_parent
        tmp = gparent.rb_right
        if parent is not tmp:
            # parent is gparent's left child; tmp is the uncle.
            if tmp is not None and tmp.rb_red:
                # Case 1: red uncle.  Flip colours; black height is unchanged
                # but gparent may now sit under a red node, so climb.
                #
                #       G            g
                #      / \          / \
                #     p   u  -->   P   U
                #    /            /
                #   n            n
                tmp.rb_red = False
                parent.rb_red = False
                gparent.rb_red = True
                node = gparent
                parent = node.rb_parent
                continue
            tmp = parent.rb_right
            if node is tmp:
                # Case 2: black uncle, node is a right child.  Left rotate at
                # parent to reach case 3.  gparent's link and node's parent are
                # left stale because case 3 rewrites both immediately.
                #
                #      G             G
                #     / \           / \
                #    p   U  -->    n   U
                #     \           /
                #      n         p
                tmp = node.rb_left
                parent.rb_right = tmp
                node.rb_left = parent
                if tmp is not None:
                    tmp.rb_parent = parent
                parent.rb_parent = node
                augment_rotate(parent, node)
                parent = node
                tmp = node.rb_right
            # Case 3: black uncle, node is a left child.  Right rotate at
            # gparent; the new subtree root is black, so nothing above changes.
            #
            #        G           P
            #       / \         / \
            #      p   U  -->  n   g
            #     /                 \
            #    n                   U
            gparent.rb_left = tmp
            parent.rb_right = gparent
            if tmp is not None:
                tmp.rb_parent = gparent
            _rotate_set_parents(gparent, parent, root, True)
            augment_rotate(gparent, parent)
            return
        else:
            # Mirror image: parent is gparent's right child.
            tmp = gparent.rb_left
            if tmp is not None and tmp.rb_red:
                tmp.rb_red = False
                parent.rb_red = False
                gparent.rb_red = True
                node = gparent
                parent = node.rb_parent
                continue
            tmp = parent.rb_left
            if node is tmp:
                tmp = node.rb_right
                parent.rb_left = tmp
                node.rb_right = parent
                if tmp is not None:
                    tmp.rb_parent = parent
                parent.rb_parent = node
                augment_rotate(parent, node)
                parent = node
                tmp = node.rb_left
            gparent.rb_right = tmp
            parent.rb_left = gparent
            if tmp is not None:
                tmp.rb_parent = gparent
            _rotate_set_parents(gparent, parent, root, True)
            augment_rotate(gparent, parent)
            return


def _erase_color(parent, root, augment_rotate):
    """____rb_erase_color: repair a black-height deficit below parent."""
    node = None
    while True:
        # Loop invariants: node is black or None and is a child of parent;
        # every path through node has one black node fewer than the others.
        # The deficit forces node's sibling to exist and be non-empty.
        sibling = parent.rb_right
        if node is not sibling:
            # node is parent's left child.
            if sibling.rb_red:
                # Case 1: red sibling.  Left rotate at parent so node gets a
                # black sibling (the red one's child), then go on to 2-4.
                #
                #     P               S
                #    / \             / \
                #   N   s    -->    p   Sr
                #      / \         / \
                #     Sl  Sr      N   Sl
                tmp1 = sibling.rb_left
                parent.rb_right = tmp1
                sibling.rb_left = parent
                tmp1.rb_parent = parent
                tmp1.rb_red = False
                _rotate_set_parents(parent, sibling, root, True)
                augment_rotate(parent, sibling)
                sibling = tmp1
            tmp1 = sibling.rb_right
            if tmp1 is None or not tmp1.rb_red:
                tmp2 = sibling.rb_left
                if tmp2 is None or not tmp2.rb_red:
                    # Case 2: black sibling with black children.  Redden it so
                    # both sides of parent are short by one; a red parent can
                    # absorb that by turning black, else parent is the new
                    # deficient node and we climb.
                    #
                    #    (p)           (p)
                    #    / \           / \
                    #   N   S    -->  N   s
                    #      / \           / \
                    #     Sl  Sr        Sl  Sr
                    sibling.rb_red = True
                    if parent.rb_red:
                        parent.rb_red = False
                        return
                    node = parent
                    parent = node.rb_parent
                    if parent is None:
                        return
                    continue
                # Case 3: the sibling's far child is black, its near child is
                # red.  Right rotate at sibling to make the red one the far
                # child for case 4; colours are fixed there.
                #
                #   (p)           (p)
                #   / \           / \
                #  N   S    -->  N   sl
                #     / \             \
                #    sl  Sr            S
                #                       \
                #                        Sr
                tmp1 = tmp2.rb_right
                sibling.rb_left = tmp1
                tmp2.rb_right = sibling
                parent.rb_right = tmp2
                if tmp1 is not None:
                    tmp1.rb_parent = sibling
                augment_rotate(sibling, tmp2)
                tmp1 = sibling
                sibling = tmp2
            # Case 4: the sibling's far child is red.  Left rotate at parent
            # and recolour: node gains a black ancestor, the far side keeps its
            # count through the blackened far child, and we are done.
            #
            #      (p)             (s)
            #      / \             / \
            #     N   S     -->   P   Sr
            #        / \         / \
            #      (sl) sr      N  (sl)
            tmp2 = sibling.rb_left
            parent.rb_right = tmp2
            sibling.rb_left = parent
            tmp1.rb_parent = sibling
            tmp1.rb_red = False
            if tmp2 is not None:
                tmp2.rb_parent = parent
            _rotate_set_parents(parent, sibling, root, False)
            augment_rotate(parent, sibling)
            return
        else:
            # Mirror image: node is parent's right child.
            sibling = parent.rb_left
            if sibling.rb_red:
                tmp1 = sibling.rb_right
                parent.rb_left = tmp1
                sibling.rb_right = parent
                tmp1.rb_parent = parent
                tmp1.rb_red = False
                _rotate_set_parents(parent, sibling, root, True)
                augment_rotate(parent, sibling)
                sibling = tmp1
            tmp1 = sibling.rb_left
            if tmp1 is None or not tmp1.rb_red:
                tmp2 = sibling.rb_right
                if tmp2 is None or not tmp2.rb_red:
                    sibling.rb_red = True
                    if parent.rb_red:
                        parent.rb_red = False
                        return
                    node = parent
                    parent = node.rb_parent
                    if parent is None:
                        return
                    continue
                tmp1 = tmp2.rb_left
                sibling.rb_right = tmp1
                tmp2.rb_left = sibling
                parent.rb_left = tmp2
                if tmp1 is not None:
                    tmp1.rb_parent = sibling
                augment_rotate(sibling, tmp2)
                tmp1 = sibling
                sibling = tmp2
            tmp2 = sibling.rb_right
            parent.rb_left = tmp2
            sibling.rb_right = parent
            tmp1.rb_parent = sibling
            tmp1.rb_red = False
            if tmp2 is not None:
                tmp2.rb_parent = parent
            _rotate_set_parents(parent, sibling, root, False)
            augment_rotate(parent, sibling)
            return


def _erase(node, root, augment):
    """__rb_erase_augmented: unlink node; return the rebalance point."""
    child = node.rb_right
    tmp = node.rb_left
    if tmp is None:
        # Case 1: at most one child.  By (3) and (4) a lone child is red and
        # node black, so recolouring the child keeps the black height.
        parent = node.rb_parent
        _change_child(node, child, parent, root)
        if child is not None:
            child.rb_parent = parent
            child.rb_red = node.rb_red
            rebalance = None
        else:
            # Removing a black leaf shortens the paths through parent.
            rebalance = None if node.rb_red else parent
        tmp = parent
    elif child is None:
        # Case 1 again, with the lone child on the left.
        parent = node.rb_parent
        tmp.rb_parent = parent
        tmp.rb_red = node.rb_red
        _change_child(node, tmp, parent, root)
        rebalance = None
        tmp = parent
    else:
        # Two children: the in-order successor (leftmost of the right subtree,
        # which has no left child) takes node's place and colour, so only the
        # successor's old position can lose a black node.
        successor = child
        tmp = child.rb_left
        if tmp is None:
            # Case 2: the successor is node's right child.
            #
            #    (n)          (s)
            #    / \          / \
            #  (x) (s)  ->  (x) (c)
            #        \
            #        (c)
            parent = successor
            child2 = successor.rb_right
            augment.copy(node, successor)
        else:
            # Case 3: the successor is deeper down the right subtree.
            #
            #    (n)          (s)
            #    / \          / \
            #  (x) (y)  ->  (x) (y)
            #      /            /
            #    (p)          (p)
            #    /            /
            #  (s)          (c)
            #    \
            #    (c)
            while True:
                parent = successor
                successor = tmp
                tmp = tmp.rb_left
                if tmp is None:
                    break
            child2 = successor.rb_right
            parent.rb_left = child2
            successor.rb_right = child
            child.rb_parent = successor
            augment.copy(node, successor)
            # The path p..y lost s; its values must be right before s's own
            # value is recomputed from y below.
            augment.propagate(parent, successor)

        tmp = node.rb_left
        successor.rb_left = tmp
        tmp.rb_parent = successor

        gparent = node.rb_parent
        _change_child(node, successor, gparent, root)
        successor.rb_parent = gparent
        if child2 is not None:
            # s was black with a lone red child c: blacken c to keep the count.
            successor.rb_red = node.rb_red
            child2.rb_parent = parent
            child2.rb_red = False
            rebalance = None
        else:
            rebalance = None if successor.rb_red else parent
            successor.rb_red = node.rb_red
        tmp = successor

    augment.propagate(tmp, None)
    return rebalance


def rb_insert_color(node: RbNode, root: RbRoot) -> None:
    """rb_insert_color: rebalance after rb_link_node() added node."""
    _insert(node, root, _dummy)


def rb_erase(node: RbNode, root: RbRoot) -> None:
    """rb_erase: unlink node and rebalance; node's own links go stale."""
    rebalance = _erase(node, root, _dummy_callbacks)
    if rebalance is not None:
        _erase_color(rebalance, root, _dummy)


def rb_insert_augmented(node: RbNode, root: RbRoot,
                        augment: RbAugmentCallbacks) -> None:
    """rb_insert_augmented: rb_insert_color() for augmented trees.

    As in Linux, the caller must already have set node's value and propagated
    it up the insertion path (e.g. augment.propagate(node, None)) after
    rb_link_node(); only rotations are reported from here on.
    """
    _insert(node, root, augment.rotate)


def rb_erase_augmented(node: RbNode, root: RbRoot,
                       augment: RbAugmentCallbacks) -> None:
    """rb_erase_augmented: rb_erase() keeping every augmented value exact."""
    rebalance = _erase(node, root, augment)
    if rebalance is not None:
        _erase_color(rebalance, root, augment.rotate)


def rb_first(root: RbRoot) -> Optional[RbNode]:
    """rb_first: the leftmost (smallest) node, or None if the tree is empty."""
    node = root.rb_node
    if node is None:
        return None
    left = node.rb_left
    while left is not None:
        node = left
        left = node.rb_left
    return node


def rb_last(root: RbRoot) -> Optional[RbNode]:
    """rb_last: the rightmost (largest) node, or None if the tree is empty."""
    node = root.rb_node
    if node is None:
        return None
    right = node.rb_right
    while right is not None:
        node = right
        right = node.rb_right
    return node


def rb_next(node: RbNode) -> Optional[RbNode]:
    """rb_next: node's in-order successor, or None if node is the last."""
    tmp = node.rb_right
    if tmp is not None:
        # Leftmost node of the right subtree.
        node = tmp
        tmp = node.rb_left
        while tmp is not None:
            node = tmp
            tmp = node.rb_left
        return node
    # Otherwise climb until we arrive from a left child: that parent is next.
    parent = node.rb_parent
    while parent is not None and node is parent.rb_right:
        node = parent
        parent = node.rb_parent
    return parent


def rb_prev(node: RbNode) -> Optional[RbNode]:
    """rb_prev: node's in-order predecessor, or None if node is the first."""
    tmp = node.rb_left
    if tmp is not None:
        node = tmp
        tmp = node.rb_right
        while tmp is not None:
            node = tmp
            tmp = node.rb_right
        return node
    parent = node.rb_parent
    while parent is not None and node is parent.rb_left:
        node = parent
        parent = node.rb_parent
    return parent


def rb_replace_node(victim: RbNode, new: RbNode, root: RbRoot) -> None:
    """rb_replace_node: swap new in for victim; it must sort the same."""
    parent = victim.rb_parent
    new.rb_parent = parent
    new.rb_red = victim.rb_red
    left = victim.rb_left
    right = victim.rb_right
    new.rb_left = left
    new.rb_right = right
    if left is not None:
        left.rb_parent = new
    if right is not None:
        right.rb_parent = new
    _change_child(victim, new, parent, root)
