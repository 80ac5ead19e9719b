"""The tape: nodes recorded during forward, and the iterative reverse walk over them.

Every differentiable op whose inputs require grad leaves a `Node`: the op, edges to where its
inputs' gradients go (the producing node, or the leaf tensor itself), what it saved for
backward, and a sequence number. Sequence numbers are creation order, so the tape is already
topologically sorted: backward pops nodes from a heap by descending sequence number, never
recursing, and drops each node's saved tensors as soon as its rule has run.

Nodes point only backwards (to inputs), and an op's own output is saved as its bare array and
re-wrapped on use, so a graph has no reference cycles: dropping the last output frees it all
by reference counting.
"""
from __future__ import annotations

import heapq
import itertools
from heapq import heappush
import os
import sys

from .grad_mode import state
from .tensor import _wrap

_seq = itertools.count()
_LIB_DIRS = tuple(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), d) + os.sep
                  for d in ("autograd", "nn"))
#: capture the user's file:line for every node (shown by the ledger, anomaly and in-place errors).
#: It walks the stack on every recorded op, so it is off by default and switched on by
#: detect_anomaly(), by record_source(), or for a whole run by TAPEGRAD_RECORD_SOURCE=1.
RECORD_SOURCE = os.environ.get("TAPEGRAD_RECORD_SOURCE", "") not in ("", "0")
#: the active `autograd.profile_memory()`, told of every node's saving and freeing; None when off,
#: so an unprofiled run pays one global lookup per node
PROFILER = None


class record_source:
    """Capture the user's file:line for every recorded node while active (context manager), or
    from now on when called as `record_source(True)` without `with`."""

    def __init__(self, enabled=True):
        global RECORD_SOURCE
        self._prev = RECORD_SOURCE
        RECORD_SOURCE = bool(enabled)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global RECORD_SOURCE
        RECORD_SOURCE = self._prev
        return False


def user_source():
    """(filename, lineno) of the first frame outside the library."""
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_LIB_DIRS):
        f = f.f_back
    return (f.f_code.co_filename, f.f_lineno) if f is not None else ("?", 0)


class Op:
    """A primitive: forward on backend arrays, backward with differentiable Tensor ops.

    `forward(B, *inputs, *params)` names its arguments; the rule reads them back by those names
    (see `Node.__getattr__`). `save` lists, by name, what backward needs: inputs and/or "out"
    (the op's result). Saving only what the rule needs is what keeps the tape small: `save_if`
    maps a saved name to the input whose gradient alone needs it (Mul saves b only when a needs a
    gradient), and the rule must then read it only in that case.
    """
    __slots__ = ("name", "forward", "backward", "save", "view", "arg_pos", "save_pos", "save_if")

    def __init__(self, name, forward, backward, save=(), view=False, args=None, save_if=None):
        self.name, self.forward, self.backward, self.view = name, forward, backward, view
        if args is None:
            import inspect
            args = [p.name for p in inspect.signature(forward).parameters.values()][1:]
        # a parameter is read as params[arg_pos[name]], counted from the end: params trail the inputs
        self.arg_pos = {a: i - len(args) for i, a in enumerate(args)}
        save = tuple(save)
        pos = []
        for s in save:
            if s == "out" or isinstance(s, int):
                pos.append(s)
            elif s in args:
                pos.append(args.index(s))
            else:
                raise TypeError(f"primitive {name}: save names {s!r}, which is neither 'out' nor an argument "
                                f"of its forward {tuple(args)}")
        self.save = tuple(pos)
        self.save_pos = {s: j for j, s in enumerate(save) if isinstance(s, str)}
        # (position, input index whose need decides it, or None) per saved value; None: save all
        self.save_if = tuple(zip(pos, (save_if.get(s) for s in save))) if save_if else None

    def __repr__(self):
        return f"<op {self.name}>"


def primitive(save=(), view=False, name=None, args=None, save_if=None):
    """Declare a primitive from a class holding `forward(B, *arrays, *params)` and `backward(ctx, g)`.

    `args` names forward's arguments where its signature cannot (a `*arrays` forward);
    `save_if={"a": 1}` saves a only when input 1 needs a gradient (see `Op`)."""
    def deco(cls):
        snake = name or "".join("_" + c.lower() if c.isupper() and i else c.lower()
                                for i, c in enumerate(cls.__name__))
        return Op(snake, cls.__dict__["forward"], cls.__dict__["backward"], save, view, args, save_if)
    return deco


class SavedTensorError(RuntimeError):
    pass


class Node:
    """One recorded op application: what backward needs and where gradients go."""
    __slots__ = ("op", "next", "saved", "versions", "params", "seq", "out_meta", "hooks", "source",
                 "__weakref__")

    @property
    def name(self):
        return self.op.name

    def __repr__(self):
        return f"<{''.join(p[:1].upper() + p[1:] for p in self.name.split('_'))}Backward>"

    @property
    def needs_input_grad(self):
        return tuple(e is not None for e in self.next)

    def __getattr__(self, name):
        """A rule's context, by the names of its op's forward: `ctx.x` is a saved input (checked
        against in-place modification), `ctx.out` the saved result, `ctx.dim` a parameter."""
        try:
            op = object.__getattribute__(self, "op")
        except AttributeError:
            raise AttributeError(name) from None
        j = op.save_pos.get(name)
        if j is not None:
            return self._unpack_one(j)
        k = op.arg_pos.get(name)
        params = object.__getattribute__(self, "params")
        if k is None or -k > len(params):
            raise AttributeError(f"'{type(self).__name__}' of op '{op.name}' has no saved value or "
                                 f"parameter {name!r}")
        return params[k]

    @property
    def saved_tensors(self):
        """Everything saved, in `save` order, checked against in-place modification."""
        return self.unpack()

    @property
    def input_shapes(self):
        """Each input's shape, read from the tape (None for an input that needs no gradient)."""
        return tuple(None if e is None else e[0].out_meta[e[1]][0] if type(e) is tuple else e._data.shape
                     for e in self.next)

    @property
    def input_dtypes(self):
        """Each input's backend dtype, read from the tape (None for an input that needs no gradient)."""
        return tuple(None if e is None else e[0].out_meta[e[1]][1] if type(e) is tuple else e._data.dtype
                     for e in self.next)

    def _unpack_one(self, j):
        s = self.saved
        if s is None:
            self.unpack()                                   # raises the freed-graph error
        item = s[j]
        if item is None:
            return None
        if type(item) is tuple:
            arr, vc, be, idx = item
            t = _wrap(arr, be, True, self, idx)
            t._vc = vc
        else:
            t = item
        if t._vc[0] != self.versions[j]:
            _raise_modified(self, t, self.versions[j], t._vc[0])
        return t

    @property
    def next_functions(self):
        return tuple(None if e is None else (e if type(e) is tuple else (e, 0)) for e in self.next)

    def unpack(self):
        """The saved tensors, checked against in-place modification since they were saved."""
        s = self.saved
        if s is None:
            raise SavedTensorError(
                f"Trying to backward through the graph a second time (or to read saved tensors after "
                f"they were freed) at op '{self.name}'. Saved tensors are freed after backward; "
                f"pass retain_graph=True to backward() or autograd.grad() the first time.")
        out = []
        for item, ver in zip(s, self.versions):
            if item is None:
                out.append(None)
                continue
            if type(item) is tuple:          # this node's own output: (array, version counter, backend, index)
                arr, vc, be, idx = item
                t = _wrap(arr, be, True, self, idx)
                t._vc = vc
                cur = vc[0]
            else:
                t = item
                cur = t._vc[0]
            if cur != ver:
                _raise_modified(self, t, ver, cur)
            out.append(t)
        return tuple(out)


def _raise_modified(node, t, saved_ver, cur_ver):
    src = f" (created at {node.source[0]}:{node.source[1]})" if node.source else ""
    hint = "" if node.source else (" (To see where that op was created, run under autograd.detect_anomaly() "
                                   "or autograd.record_source(), or set TAPEGRAD_RECORD_SOURCE=1.)")
    raise RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: a tensor of shape {tuple(t._data.shape)} and dtype {t.dtype.name} saved by op "
        f"'{node.name}'{src} is at version {cur_ver}; expected version {saved_ver}. "
        f"Clone it before modifying it in place, or modify it before it is used.{hint}")


def record(op, inputs, out, params, be):
    """Wrap `out` as the result of `op` on `inputs`, recording a node if any input requires grad."""
    node = Node()
    node.op = op
    node.params = params
    node.seq = next(_seq)
    node.hooks = None
    node.source = user_source() if RECORD_SOURCE else None
    # an edge is (producing node, output index), or the leaf tensor itself, or None (no grad)
    if len(inputs) == 1:
        t = inputs[0]
        f = t.grad_fn
        node.next = (t if f is None else (f, t._idx),)        # the input requires grad: we are here
    else:
        edges = []
        for t in inputs:
            if t._rg:
                f = t.grad_fn
                edges.append(t if f is None else (f, t._idx))
            else:
                edges.append(None)
        node.next = tuple(edges)
    node.out_meta = ((out.shape, out.dtype),)
    res = _wrap(out, be, True, node, 0)
    if op.view:
        res._vc = inputs[0]._vc
    if op.save:
        if op.save_if is not None:
            _save_if_needed(op, node, inputs, out, res, be)
        else:
            saved = []
            vers = []
            for s in op.save:
                if s == "out":
                    saved.append((out, res._vc, be, 0))
                    vers.append(res._vc[0])
                else:
                    t = inputs[s]
                    saved.append(t)
                    vers.append(t._vc[0])
            node.saved = tuple(saved)
            node.versions = tuple(vers)
    else:
        node.saved = ()
        node.versions = ()
    if PROFILER is not None:
        PROFILER.saved(node)
    return res


def _save_if_needed(op, node, inputs, out, res, be):
    """record's saving for an op with `save_if`: a value only some input's gradient needs is saved
    (and later version-checked) only when that input needs a gradient."""
    saved = []
    vers = []
    nxt = node.next
    for s, cond in op.save_if:
        if cond is not None and nxt[cond] is None:
            saved.append(None)
            vers.append(0)
        elif s == "out":
            saved.append((out, res._vc, be, 0))
            vers.append(res._vc[0])
        else:
            t = inputs[s]
            saved.append(t)
            vers.append(t._vc[0])
    node.saved = tuple(saved)
    node.versions = tuple(vers)


# ----------------------------------------------------------------------------------------
# the reverse walk

def _check_grad(node, i, g, meta):
    """Reduce a rule's gradient to its input's shape (the one unbroadcast) and dtype."""
    shape, dtype = meta
    d = g._data
    if d.shape != shape:
        g = sum_to(g, shape, node)
    if d.dtype != dtype:
        be = g._backend
        if not (g.dtype.is_floating_point and be.dtype_from_native(dtype).is_floating_point):
            raise RuntimeError(f"backward of op '{node.name}' returned a {g.dtype.name} gradient "
                               f"for input {i} of dtype {be.dtype_from_native(dtype).name}")
        g = g.to(be.dtype_from_native(dtype))
    return g


def sum_to(g, shape, node=None):
    """Sum a broadcast gradient back down to `shape` (differentiable)."""
    gs = g._data.shape
    lead = len(gs) - len(shape)
    if lead < 0 or any(s != 1 and s != gs[lead + i] for i, s in enumerate(shape)):
        where = f"backward of op '{node.name}'" if node is not None else "sum_to"
        raise RuntimeError(f"{where} returned a gradient of shape {tuple(gs)} for an input of shape "
                           f"{tuple(shape)}, which it cannot be reduced to")
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and gs[lead + i] != 1)
    return _ops.apply(_ops.SumTo, (g,), axes, tuple(shape))


def run_backward(roots, root_grads, retain_graph, create_graph, inputs=None, allow_unused=False):
    """Propagate gradients from `roots`. Without `inputs`, accumulate into leaves' `.grad`;
    with `inputs`, return their gradients and touch no `.grad`."""
    heap = []
    buffers = {}             # node -> [grad per output]
    leaves = {}              # id(leaf) -> [leaf, grad]
    capture = None
    needed = None
    if inputs is not None:
        capture = {}
        targets = set()
        for t in inputs:
            key = (t.grad_fn, t._idx) if t.grad_fn is not None else id(t)
            capture[key] = None
            if t.grad_fn is not None:
                targets.add(t.grad_fn)
        needed = _prune(roots, capture, targets)

    def send(edge, g):
        if type(edge) is tuple:
            n, i = edge
            buf = buffers.get(n)
            if buf is None:
                buf = buffers[n] = [None] * len(n.out_meta)
                heappush(heap, (-n.seq, n))
            buf[i] = g if buf[i] is None else buf[i] + g
        else:
            k = id(edge)
            ent = leaves.get(k)
            if ent is None:
                leaves[k] = [edge, g]
            else:
                ent[1] = ent[1] + g

    for t, g in zip(roots, root_grads):
        send((t.grad_fn, t._idx) if t.grad_fn is not None else t, g)

    prev_mode = state.enabled
    anomaly = state.anomaly
    state.enabled = create_graph
    heappop = heapq.heappop
    state.anomaly = False                  # ops inside rules are checked as the rule's result
    try:
        while heap:
            node = heappop(heap)[1]
            grads = buffers.pop(node)
            if node.hooks:
                _run_node_hooks(node, grads)
            if capture is not None:
                for i, g in enumerate(grads):
                    if (node, i) in capture:
                        capture[(node, i)] = g
                if node not in needed:
                    continue
            if node.saved is None:
                node.unpack()                      # raises the retain_graph error
            if len(grads) > 1:
                _fill_unused(node, grads)
            in_grads = node.op.backward(node, *grads)
            if type(in_grads) is not tuple:
                in_grads = tuple(in_grads) if isinstance(in_grads, list) else (in_grads,)
            nxt = node.next
            if len(in_grads) != len(nxt):
                raise RuntimeError(f"backward of op '{node.name}' returned {len(in_grads)} gradients; "
                                   f"the op has {len(nxt)} inputs")
            for i in range(len(nxt)):
                edge = nxt[i]
                g = in_grads[i]
                if edge is None or g is None:
                    continue
                if type(edge) is tuple:
                    shape, dt = edge[0].out_meta[edge[1]]
                else:
                    shape, dt = edge._data.shape, edge._data.dtype
                d = g._data
                if d.shape != shape or d.dtype != dt:
                    g = _check_grad(node, i, g, (shape, dt))
                if anomaly:
                    from .anomaly import check_backward
                    check_backward(node, i, g, anomaly)
                send(edge, g)
                if anomaly:
                    total = _summed(edge, buffers, leaves)
                    if total is not g:             # a first contribution was checked just above
                        from .anomaly import check_summed
                        check_summed(node, edge, total, anomaly)
            if not retain_graph:
                node.saved = None
                if PROFILER is not None:
                    PROFILER.freed(node)
    finally:
        state.enabled = prev_mode
        state.anomaly = anomaly

    if capture is not None:
        for ent in leaves.values():
            leaf, g = ent
            if id(leaf) in capture:
                capture[id(leaf)] = _leaf_hooks(leaf, g)
        out = []
        for t in inputs:
            g = capture[(t.grad_fn, t._idx) if t.grad_fn is not None else id(t)]
            if g is None and not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been used in "
                                   "the graph. Set allow_unused=True if this is the desired behavior.")
            out.append(g)
        return tuple(out)

    handed = {id(g._data) for g in root_grads}
    for leaf, g in leaves.values():
        accumulate_grad(leaf, _leaf_hooks(leaf, g), create_graph, handed)
    return None


def accumulate_grad(leaf, g, create_graph, handed=None):
    """Add g into leaf.grad. A fresh .grad never aliases another tensor's storage (two leaves of
    `a + b` would otherwise share one array, and clip_grad_norm_ would scale it twice) and is
    writable; with create_graph it is a recorded copy, so it keeps its graph."""
    if leaf.grad is None:
        d = g._data
        copy = handed is not None and (id(d) in handed or not g._backend.owns_memory(d))
        if not create_graph:
            if copy:
                d = g._backend.asarray(d, copy=True)
            g = _wrap(d, g._backend)
        elif copy:
            prev, state.enabled = state.enabled, True
            try:
                g = _ops.apply(_ops.Clone, (g,))
            finally:
                state.enabled = prev
            d = g._data
        if handed is not None:
            handed.add(id(d))
        leaf.grad = g
    else:
        leaf.grad = leaf.grad + g if create_graph else _wrap(leaf.grad._data + g._data, g._backend)


def _run_node_hooks(node, grads):
    for i, hooks in node.hooks.items():
        if grads[i] is not None:
            for h in sorted(hooks.values(), key=_retains_last):   # retain_grad sees the final grad
                r = h(grads[i])
                if r is not None:
                    grads[i] = r


def _fill_unused(node, grads):
    """Outputs of a multi-output node that nobody used get a zero gradient."""
    be = next(x for x in grads if x is not None)._backend
    for i, g in enumerate(grads):
        if g is None:
            shape, dt = node.out_meta[i]
            grads[i] = _wrap(be.xp.zeros(shape, dtype=dt), be)


def _summed(edge, buffers, leaves):
    if type(edge) is tuple:
        return buffers[edge[0]][edge[1]]
    return leaves[id(edge)][1]


def _retains_last(hook):
    return hasattr(hook, "_retains")


def _leaf_hooks(leaf, g):
    if leaf._hooks:
        for h in list(leaf._hooks.values()):
            r = h(g)
            if r is not None:
                g = r
    return g


def _prune(roots, capture, targets):
    """Nodes from which some requested input can be reached (only those run in autograd.grad)."""
    seen = {}
    stack = [t.grad_fn for t in roots if t.grad_fn is not None]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen[n] = False
        for e in n.next:
            if type(e) is tuple and e[0] not in seen:
                stack.append(e[0])
    needed = set()
    for n in sorted(seen, key=lambda n: n.seq):
        for e in n.next:
            if e is None:
                continue
            if type(e) is tuple:
                if e[0] in needed or e in capture:
                    needed.add(n)
                    break
            elif id(e) in capture:
                needed.add(n)
                break
    return needed


_hook_ids = itertools.count()


def add_hook(hooks: dict, fn):
    """Store fn in an ordered hooks dict; return a handle whose .remove() takes it off."""
    hid = next(_hook_ids)
    hooks[hid] = fn
    return RemovableHandle(hooks, hid)


class RemovableHandle:
    """Returned by every register_*hook: `.remove()` takes the hook off again."""
    __slots__ = ("_hooks", "id")

    def __init__(self, hooks, hid):
        self._hooks, self.id = hooks, hid

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.remove()


from . import ops as _ops  # noqa: E402 - last: ops builds on this module
