"""Nested Python containers of tensors (tuples, lists, dicts) as flat lists of leaves and a structure, as
``torch.utils._pytree`` does for ``torch.func``'s arguments, outputs and ``in_dims``/``out_dims``."""


class TreeSpec:
    """The structure of a container: its type, its keys (dicts) and its children's structures; ``LEAF`` for a
    leaf."""

    __slots__ = ("children", "context", "num_leaves", "type")

    def __init__(self, type_, context, children):
        self.type, self.context, self.children = type_, context, children
        self.num_leaves = 1 if type_ is None else sum(c.num_leaves for c in children)

    def __eq__(self, other):
        return (isinstance(other, TreeSpec) and self.type is other.type and self.context == other.context
                and self.children == other.children)

    __hash__ = None

    def __repr__(self, indent=0):
        """PyTorch's layout: children after the first on their own lines, indented by depth."""
        if self.type is None:
            return "*"
        indent += 2
        children = [c.__repr__(indent) for c in self.children]
        return f"TreeSpec({self.type.__name__}, {self.context}, [{(',' + chr(10) + ' ' * indent).join(children)}])"


LEAF = TreeSpec(None, None, ())


def _is_node(x):
    return isinstance(x, (tuple, list, dict))


def _children(x):
    if isinstance(x, dict):
        keys = list(x)
        return keys, [x[k] for k in keys]
    return None, list(x)


def tree_flatten(tree):
    """``(leaves, spec)``: the leaves in order, and the structure ``tree_unflatten`` rebuilds from them."""
    leaves = []
    return leaves, _flatten(tree, leaves)


def _flatten(node, leaves):
    if not _is_node(node):
        leaves.append(node)
        return LEAF
    keys, children = _children(node)
    return TreeSpec(type(node), keys, [_flatten(c, leaves) for c in children])


def tree_unflatten(leaves, spec):
    return _unflatten(iter(leaves), spec)


def _unflatten(it, spec):
    if spec.type is None:
        return next(it)
    children = [_unflatten(it, c) for c in spec.children]
    if spec.type is dict or issubclass(spec.type, dict):
        return spec.type(zip(spec.context, children))
    if hasattr(spec.type, "_fields"):  # a namedtuple
        return spec.type(*children)
    return spec.type(children)


def tree_map(fn, tree):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def broadcast_to_leaves(prefix, spec):
    """``prefix`` (a leaf standing for a whole subtree, or a container matching ``spec`` down to such leaves)
    as one value per leaf of ``spec``; None when the structures do not match."""
    out = []
    return out if _broadcast(prefix, spec, out) else None


def _broadcast(prefix, spec, out):
    if not _is_node(prefix):
        out.extend([prefix] * spec.num_leaves)
        return True
    if spec.type is None or type(prefix) is not spec.type:
        return False
    keys, children = _children(prefix)
    if keys != spec.context or len(children) != len(spec.children):
        return False
    return all(_broadcast(p, s, out) for p, s in zip(children, spec.children))
