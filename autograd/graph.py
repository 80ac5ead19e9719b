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

import builtins
import heapq
import weakref
import itertools
from heapq import heappush
import os
import sys
import threading

from .grad_mode import _anomaly, _enabled, grad_enabled, set_instrumentation, state
from .tensor import _wrap

_seq = itertools.count()
_LIB_DIRS = tuple(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), d) + os.sep
                  for d in ("autograd", "nn"))
#: the active `autograd.profile_memory()`, told of every node's saving and freeing; None when off,
#: so an unprofiled run pays one global lookup per node
PROFILER = None
#: autograd.compile's recorder while it traces a step (autograd/compile.py), else None
TRACER = None


class record_source:
    """Capture the user's file:line for every node recorded in this thread while active (context
    manager), or from now on when called as `record_source(True)` without `with`.

    Walking the stack on every recorded op is slow, so it is off by default; detect_anomaly()
    and profile_memory() switch it on too, and TAPEGRAD_RECORD_SOURCE=1 for a whole run. Like
    grad mode it is thread-local."""

    def __init__(self, enabled=True):
        self._prev = state.source
        set_instrumentation(state.anomaly, bool(enabled))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        set_instrumentation(state.anomaly, self._prev)
        return False


def user_source():
    """(filename, lineno) of the first frame outside the library."""
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_LIB_DIRS):
        f = f.f_back
    return (f.f_code.co_filename, f.f_lineno) if f is not None else ("?", 0)


builtins_max = builtins.max


class Op:
    """A primitive: forward on backend arrays, backward with differentiable Tensor ops.

    `forward(B, *inputs, *params)` names its arguments; the rule reads them back by those names
    (see `Node.__getattr__`). `save` lists, by name, what backward needs: inputs and/or "out"
    (the op's result). Saving only what the rule needs is what keeps the tape small: `save_if`
    maps a saved name to the input whose gradient alone needs it (Mul saves b only when a needs a
    gradient), and the rule must then read it only in that case.
    """
    __slots__ = ("name", "forward", "backward", "save", "view", "broadcast", "arg_pos", "save_pos", "save_if",
                 "node_cls", "warns")

    def __init__(self, name, forward, backward, save=(), view=False, args=None, broadcast=False, save_if=None,
                 warns=True):
        self.name, self.forward, self.backward, self.view = name, forward, backward, view
        self.warns = warns             # False: forward never raises a floating-point warning (apply skips the quiet window)
        self.node_cls = None           # its nodes' class, with the names below as properties (made on first use)
        self.broadcast = broadcast
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
        # what to save for each pattern of inputs needing no gradient (bit i: input i needs none);
        # None: save all. Only two-input ops (Mul, Div) need it, which keeps record's lookup one index
        self.save_if = None
        if save_if:
            if builtins_max(save_if.values()) > 1:
                raise TypeError(f"primitive {name}: save_if is for the two inputs of a binary op")
            conds = [save_if.get(s) for s in save]
            self.save_if = tuple(tuple(None if c is not None and mask >> c & 1 else p for p, c in zip(pos, conds))
                                 for mask in range(4))

    def __repr__(self):
        return f"<op {self.name}>"


def primitive(save=(), view=False, name=None, args=None, broadcast=False, save_if=None, warns=True):
    """Declare a primitive from a class holding `forward(B, *arrays, *params)` and `backward(ctx, g)`.

    `args` names forward's arguments where its signature cannot (a `*arrays` forward);
    `broadcast=True` says the inputs broadcast against each other elementwise (so a failure on
    shapes that cannot broadcast is reported as such); `save_if={"a": 1}` saves a only when
    input 1 needs a gradient (see `Op`); `warns=False` says forward can never emit a NumPy
    floating-point warning (views, selection: no arithmetic), so `apply` runs it without the quiet
    window (tests/test_perf_quiet.py checks each such op on inf/nan/overflowing input)."""
    def deco(cls):
        snake = name or "".join("_" + c.lower() if c.isupper() and i else c.lower()
                                for i, c in enumerate(cls.__name__))
        return Op(snake, cls.__dict__["forward"], cls.__dict__["backward"], save, view, args, broadcast,
                  save_if, warns)
    return deco


class SavedTensorError(RuntimeError):
    pass


class Node:
    """One recorded op application: what backward needs and where gradients go."""
    __slots__ = ("op", "next", "saved", "versions", "params", "seq", "out_meta", "hooks", "source",
                 "extra", "__weakref__")

    @property
    def name(self):
        return self.op.name

    def __repr__(self):
        return f"<{''.join(p[:1].upper() + p[1:] for p in self.name.split('_'))}Backward>"

    @property
    def needs_input_grad(self):
        n = self.next
        if len(n) == 2:                    # most rules that ask are binary: no generator
            return n[0] is not None, n[1] is not None
        return tuple([e is not None for e in n])

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
            if not self.versions:
                return ()                            # nothing was saved, so nothing was freed
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


def eager_rule():
    """True where a backward rule may compute its gradient straight on arrays, as torch's
    dedicated backward kernels do (threshold_backward, softmax/nll_loss_backward, addmm's): the
    walk is not recording (no create_graph, so the gradient is never differentiated) and
    autograd.compile is not tracing (it records the rule's primitives and namespace calls). Where
    it is False the rule runs its differentiable composite, which gives the same numbers bit for bit."""
    return TRACER is None and not grad_enabled()


def saved_array(node, j):
    """The array of node's j-th saved value, checked against in-place modification as `ctx.<name>`
    is, without wrapping it in a Tensor (for the rules' array-level paths, see `eager_rule`)."""
    s = node.saved
    if s is None:
        node.unpack()                                   # raises the freed-graph error
    item = s[j]
    if type(item) is tuple:
        arr, vc = item[0], item[1]
    else:
        arr, vc = item._data, item._vc
    if vc[0] != node.versions[j]:
        node._unpack_one(j)                             # raises the modified-in-place error
    return arr


_anomaly_get = _anomaly.get

#: per thread, what a primitive's forward stashed for its rule (`.arrays`): None (no caller asked),
#: () (asked, nothing yet). Thread-local: two threads computing losses at once must not swap stashes.
_stash = threading.local()
_stash.arrays = None


def want_stash():
    """Called by the function that applies an op whose forward stashes (see `stash`), right before
    `apply`: only then does the forward's `stash` keep anything (not in autograd.compile's replay,
    which calls the forward alone)."""
    _stash.arrays = ()


def stash(*arrays):
    """Called in a primitive's forward: keep intermediate arrays its array-level rule would otherwise
    recompute (cross-entropy's exp(x - max) and row sums, as torch saves the log-softmax), where the
    caller asked with `want_stash`. The caller hands them to the recorded node with
    `keep_stash(result)` right after `apply` (dropped where nothing was recorded, while
    autograd.compile traces, and under the memory profiler, whose live total follows saved tensors;
    `tape_report` counts them with the node's saved bytes);
    the rule takes them once with `take_stash`. They are not saved tensors: the rule reads them only
    after its saved inputs passed the in-place check (`saved_array`), and must compute the same
    numbers without them."""
    if getattr(_stash, "arrays", None) is not None:
        _stash.arrays = arrays


def keep_stash(res, *more):
    """Attach what the op that made `res` stashed, followed by `more` (say an input's version, to
    tell whether it changed since), to res's node where it was recorded; returns res. With res None
    (the apply raised) it only clears."""
    st = getattr(_stash, "arrays", None)
    _stash.arrays = None
    if res is None or not st:
        return res
    node = res.grad_fn
    # kept while autograd.compile traces too (its tracer clears a stash it did not record with the forward);
    # not under profile_memory otherwise, whose live total follows saved tensors
    if node is not None and (PROFILER is None or TRACER is not None):
        node.extra = st + more
    return res


def take_stash(node):
    """The arrays node's forward stashed, once (the first backward frees them); None where there are
    none (not kept, or already taken by an earlier backward with retain_graph): recompute them."""
    try:
        st = node.extra
    except AttributeError:
        return None
    node.extra = None
    return st


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
    """Wrap `out` as the result of `op` on `inputs` (some of which require grad), recording a node.

    The node's edges and saved values are made by `edges` and `save`, which custom Functions
    record through too; the user's source line is added by apply's instrumented path."""
    cls = op.node_cls
    node = (cls or _node_class(op))()
    node.op = op
    node.params = params
    node.seq = next(_seq)
    node.hooks = node.source = None
    n = len(inputs)
    if n == 1:                         # the one input requires grad (we are recording): its edge
        t = inputs[0]
        f = t.grad_fn
        node.next = nxt = (t if f is None else (f, t._idx),)
    elif n == 2:                       # binary ops: the same as edges(), without the loop
        a, b = inputs
        node.next = nxt = (((a if a.grad_fn is None else (a.grad_fn, a._idx)) if a._rg else None),
                           ((b if b.grad_fn is None else (b.grad_fn, b._idx)) if b._rg else None))
    elif n == 3:                       # linear with a bias, addcmul, where
        a, b, c = inputs
        node.next = nxt = (((a if a.grad_fn is None else (a.grad_fn, a._idx)) if a._rg else None),
                           ((b if b.grad_fn is None else (b.grad_fn, b._idx)) if b._rg else None),
                           ((c if c.grad_fn is None else (c.grad_fn, c._idx)) if c._rg else None))
    else:
        node.next = nxt = edges(inputs)
    node.out_meta = ((out.shape, out.dtype),)
    res = _wrap(out, be, True, node, 0)
    if op.view:
        res._vc = inputs[0]._vc
    if op.save:
        which = op.save
        if op.save_if is not None:          # a value only some input's gradient needs, saved only then
            which = op.save_if[(nxt[0] is None) | (nxt[1] is None) << 1]
        save(node, which, inputs, res)
    else:
        node.saved = node.versions = ()
        if PROFILER is not None:
            profile_saved(node)
    return res


def _node_class(op):
    """The class of op's nodes: a Node whose rule-context names (`ctx.x`, `ctx.out`, `ctx.dim`)
    are properties, so a rule reads them without `Node.__getattr__`'s failed-lookup detour."""
    def saved(j):
        return property(lambda self: self._unpack_one(j))

    def param(k, name):
        def get(self):
            p = self.params
            if -k > len(p):                 # an input's name, not a parameter's
                return Node.__getattr__(self, name)
            return p[k]
        return property(get)
    props = {name: param(k, name) for name, k in op.arg_pos.items() if name.isidentifier()}
    props.update({name: saved(j) for name, j in op.save_pos.items()})
    props = {n: v for n, v in props.items() if not hasattr(Node, n)}    # never shadow Node's own
    props["__slots__"] = ()
    op.node_cls = type("".join(p[:1].upper() + p[1:] for p in op.name.split("_")) + "Backward", (Node,), props)
    return op.node_cls


def edges(inputs):
    """Where each input's gradient goes: (producing node, output index) for a computed tensor,
    the tensor itself for a leaf, None for an input that needs no gradient. The tape's one edge
    representation, for primitives and custom Functions alike."""
    if len(inputs) == 1:              # most ops: no loop, no list
        t = inputs[0]
        f = t.grad_fn
        return ((t if f is None else (f, t._idx)) if t._rg else None,)
    out = []
    for t in inputs:
        if t._rg:
            f = t.grad_fn
            out.append(t if f is None else (f, t._idx))
        else:
            out.append(None)
    return tuple(out)


def save(node, which, tensors, out=None):
    """Keep `tensors[i]` for each i in `which` ("out" for `out`; None allowed) for node's backward,
    each with its version now, which unpacking checks. The node's own outputs are kept as (array,
    version counter, backend, output index) and re-wrapped on use: holding the output Tensor
    would make a reference cycle (output -> grad_fn -> node -> output). Tells the memory
    profiler, if one is active."""
    k = len(which)
    if k == 1:                       # one value (relu's out, cross-entropy's x): no lists, no loop
        s = which[0]
        t = out if s == "out" else tensors[s] if s is not None else None
        if t is not None:
            vc = t._vc
            if t.grad_fn is node:
                node.saved = ((t._data, vc, t._backend, t._idx),)
                node.versions = (vc[0],)
                if PROFILER is not None:
                    profile_saved(node)
                return
            if type(vc) is list:
                node.saved = (t,)
                node.versions = (vc[0],)
                if PROFILER is not None:
                    profile_saved(node)
                return
    elif k == 2:                     # two inputs (linear's x and W, mul's a and b)
        i, j = which
        if type(i) is int and type(j) is int:
            a, b = tensors[i], tensors[j]
            if a is not None and b is not None and a.grad_fn is not node and b.grad_fn is not node:
                va, vb = a._vc, b._vc
                if type(va) is list and type(vb) is list:
                    node.saved = (a, b)
                    node.versions = (va[0], vb[0])
                    if PROFILER is not None:
                        profile_saved(node)
                    return
    if which:                        # the general case (and every error)
        saved = []
        vers = []
        for s in which:
            t = out if s == "out" else tensors[s] if s is not None else None
            if t is None:
                saved.append(None)
                vers.append(0)
            elif t.grad_fn is node:
                vc = t._vc
                vers.append(vc[0])
                saved.append((t._data, vc, t._backend, t._idx))
            else:
                vc = t._vc
                if type(vc) is not list:
                    _inference_saved(node, t)
                vers.append(vc[0])
                saved.append(t)
        node.saved = tuple(saved)
        node.versions = tuple(vers)
    else:
        node.saved = node.versions = ()
    if PROFILER is not None:
        profile_saved(node)


def _inference_saved(node, t):
    raise RuntimeError(f"Inference tensors cannot be saved for backward: op '{node.name}' needs a tensor of shape "
                       f"{tuple(t.shape)} made under autograd.inference_mode(). Please do not use tensors created "
                       f"in inference mode in computation tracked by autograd; to work around it, clone() the "
                       f"tensor to get a normal one.")


def profile_saved(node):
    """Tell the active memory profiler what node saved (and where the user created it)."""
    if node.source is None:
        node.source = user_source()
    PROFILER.saved(node)


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


@primitive(save=(), name="depends_on", warns=False)
class DependsOn:
    """g, recorded as a function of `ref` whose derivative is zero (see `depends_on`)."""
    def forward(B, g, ref): return g

    def backward(ctx, gg):
        shape, dtype = ctx.input_shapes[1], ctx.input_dtypes[1]
        return gg, _wrap(gg._backend.xp.zeros(shape, dtype=dtype), gg._backend)


def depends_on(g, ref):
    """A rule's gradient `g`, made to depend on `ref` (an input or output of the op) with a zero
    derivative when the rule runs under create_graph.

    torch's dedicated backward kernels (relu's threshold_backward, max_pool's, hardtanh's) take
    the op's input or output as a differentiable argument, so their gradient requires grad even
    when the incoming gradient does not, and differentiating it again gives zeros instead of
    "does not require grad". A rule written as `masked(g, constant mask)` says so with this."""
    if ref._rg and not g._rg and grad_enabled():
        return _ops.apply(DependsOn, (g, ref))
    return g


def run_backward(roots, root_grads, retain_graph, create_graph, inputs=None, allow_unused=False):
    """Propagate gradients from `roots`. Without `inputs`, accumulate into leaves' `.grad`;
    with `inputs`, return their gradients and touch no `.grad`.

    This is the plain walk, kept lean because every training step runs it; anomaly mode and
    `inputs=` (autograd.grad) take `_walk_instrumented`, which does the same and more."""
    if inputs is not None or _anomaly_get():
        return _walk_instrumented(roots, root_grads, retain_graph, create_graph, inputs, allow_unused)
    heap = []                # (-seq, node): the latest-created pending node first
    buffers = {}             # node -> [grad per output]
    leaves = {}              # id(leaf) -> [leaf, grad]
    for t, g in zip(roots, root_grads):
        _send(_edge_of(t), g, heap, buffers, leaves)
    # leaves with post-accumulate-grad hooks (DistributedDataParallel) are finished as soon as their
    # last contribution arrives, so the hook can start communicating while backward goes on
    early = _EarlyLeaves(roots, root_grads, create_graph) if POST_HOOKS else None
    mode = _enabled.set(create_graph)      # rules record only for create_graph (state.enabled)
    heappop = heapq.heappop
    # the one pending node while it is the only one (a chain of layers never needs the heap); a
    # second pending node sends both to the heap, which orders them latest-created first
    ready = heappop(heap)[1] if len(heap) == 1 else None
    try:
        while True:
            if ready is not None:
                node, ready = ready, None
            elif heap:
                node = heappop(heap)[1]
            else:
                break
            grads = buffers.pop(node)
            if node.hooks:
                _run_node_hooks(node, grads)
            nxt = node.next
            if len(grads) == 1:                # _call_rule, inlined for the one-output node
                in_grads = node.op.backward(node, grads[0])
                if type(in_grads) is not tuple:
                    in_grads = tuple(in_grads) if type(in_grads) is list else (in_grads,)
                if len(in_grads) != len(nxt):
                    _count_error(node, in_grads)
            else:
                in_grads = _call_rule(node, grads)
            for i, edge in enumerate(nxt):
                g = in_grads[i]
                if edge is None or g is None:
                    if early is not None and edge is not None and type(edge) is not tuple:
                        early.arrived(edge, leaves)
                    continue
                d = g._data
                if type(edge) is tuple:
                    n, k = edge
                    meta = n.out_meta[k]
                    if d.shape != meta[0] or d.dtype != meta[1]:
                        g = _check_grad(node, i, g, meta)
                    buf = buffers.get(n)
                    if buf is None:
                        buf = buffers[n] = [None] * len(n.out_meta)
                        if ready is None and not heap:
                            ready = n
                        else:
                            if ready is not None:
                                heappush(heap, (-ready.seq, ready))
                                ready = None
                            heappush(heap, (-n.seq, n))
                    old = buf[k]
                    buf[k] = g if old is None else old + g
                else:
                    ld = edge._data
                    if d.shape != ld.shape or d.dtype != ld.dtype:
                        g = _check_grad(node, i, g, (ld.shape, ld.dtype))
                    ent = leaves.get(id(edge))
                    if ent is None:
                        leaves[id(edge)] = [edge, g]
                    else:
                        ent[1] = ent[1] + g
                    if early is not None:
                        early.arrived(edge, leaves)
            if not retain_graph:
                node.saved = None
                if PROFILER is not None:
                    PROFILER.freed(node)
    finally:
        _enabled.reset(mode)
    _accumulate_leaves(leaves, root_grads, create_graph)
    return None


def _call_rule(node, grads):
    """node's backward rule on its output gradients (unused outputs of a multi-output node get
    zeros): one gradient per input, as a tuple. A rule reading values freed by an earlier backward
    raises the retain_graph error (Node.unpack); a node that saved nothing can run again, as in torch."""
    if len(grads) > 1:
        _fill_unused(node, grads)
    in_grads = node.op.backward(node, *grads)
    if type(in_grads) is not tuple:              # a one-input rule may return its gradient bare
        in_grads = tuple(in_grads) if type(in_grads) is list else (in_grads,)
    if len(in_grads) != len(node.next):
        _count_error(node, in_grads)
    return in_grads


def _walk_instrumented(roots, root_grads, retain_graph, create_graph, inputs, allow_unused):
    """run_backward with the extras: under anomaly mode every gradient a rule returns and every
    sum of contributions is checked for NaN/Inf; with `inputs`, only the nodes from which some
    input can be reached run, and the inputs' gradients are returned instead of accumulated."""
    from .anomaly import check_backward, check_summed
    heap, buffers, leaves = [], {}, {}
    capture = needed = None
    if inputs is not None:
        capture = {}
        targets = set()
        for t in inputs:
            capture[_key(t)] = None
            if t.grad_fn is not None:
                targets.add(t.grad_fn)
        needed = _prune(roots, capture, targets)
    for t, g in zip(roots, root_grads):
        _send(_edge_of(t), g, heap, buffers, leaves)
    anomaly = state.anomaly
    prev_mode, prev_checks = state.enabled, (state.anomaly, state.source)
    state.enabled = create_graph
    set_instrumentation(False, state.source)     # ops inside rules are checked as the rule's result
    try:
        while heap:
            node = heapq.heappop(heap)[1]
            grads = buffers.pop(node)
            if node.hooks:
                _run_node_hooks(node, grads)
            if capture is not None:
                for i, g in enumerate(grads):
                    if (node, i) in capture:
                        capture[(node, i)] = g
                if node not in needed:
                    continue
            in_grads = _call_rule(node, grads)
            nxt = node.next
            for i, edge in enumerate(nxt):
                g = in_grads[i]
                if edge is None or g is None:
                    continue
                meta = edge[0].out_meta[edge[1]] if type(edge) is tuple else (edge._data.shape, edge._data.dtype)
                d = g._data
                if d.shape != meta[0] or d.dtype != meta[1]:
                    g = _check_grad(node, i, g, meta)
                if anomaly:
                    check_backward(node, i, g, anomaly)
                total = _send(edge, g, heap, buffers, leaves)
                if anomaly and total is not g:        # a first contribution was checked just above
                    check_summed(node, edge, total, anomaly)
            if not retain_graph:
                node.saved = None
                if PROFILER is not None:
                    PROFILER.freed(node)
    finally:
        state.enabled = prev_mode
        set_instrumentation(*prev_checks)

    if capture is None:
        _accumulate_leaves(leaves, root_grads, create_graph)
        return None
    for leaf, g in leaves.values():
        if id(leaf) in capture:
            capture[id(leaf)] = _leaf_hooks(leaf, g)
    out = []
    for t in inputs:
        g = capture[_key(t)]
        if g is None and not allow_unused:
            raise RuntimeError("One of the differentiated Tensors appears to not have been used in "
                               "the graph. Set allow_unused=True if this is the desired behavior.")
        out.append(g)
    return tuple(out)


def _edge_of(t):
    return t if t.grad_fn is None else (t.grad_fn, t._idx)


def _key(t):
    """A tensor's key in autograd.grad's capture: its edge, with a leaf by identity."""
    return (t.grad_fn, t._idx) if t.grad_fn is not None else id(t)


def _send(edge, g, heap, buffers, leaves):
    """Add g into the gradient flowing into `edge`, queueing its node; return the new total."""
    if type(edge) is tuple:
        n, k = edge
        buf = buffers.get(n)
        if buf is None:
            buf = buffers[n] = [None] * len(n.out_meta)
            heappush(heap, (-n.seq, n))
        old = buf[k]
        total = buf[k] = g if old is None else old + g
        return total
    ent = leaves.get(id(edge))
    if ent is None:
        leaves[id(edge)] = [edge, g]
        return g
    ent[1] = ent[1] + g
    return ent[1]


def _count_error(node, in_grads):
    raise RuntimeError(f"backward of op '{node.name}' returned {len(in_grads)} gradients; "
                       f"the op has {len(node.next)} inputs")


def _accumulate_leaves(leaves, root_grads, create_graph):
    handed = {id(root_grads[0]._data)} if len(root_grads) == 1 else {id(g._data) for g in root_grads}
    plain = TRACER is None and not create_graph
    for leaf, g in leaves.values():
        if leaf._hooks:
            g = _leaf_hooks(leaf, g)
        if plain and leaf.grad is None:       # _accumulate_grad's first case, inlined (the training step's)
            d = g._data
            be = g._backend
            if id(d) in handed or not be.owns_memory(d):
                d = be.asarray(d, copy=True)
            handed.add(id(d))
            leaf.grad = _wrap(d, be)
        else:
            accumulate_grad(leaf, g, create_graph, handed)
        if POST_HOOKS:
            _run_post_hooks(leaf)


# post-accumulate-grad hooks (Tensor.register_post_accumulate_grad_hook): id(leaf) -> {hid: hook}
POST_HOOKS: dict[int, dict] = {}


def add_post_hook(leaf, fn):
    key = id(leaf)
    hooks = POST_HOOKS.get(key)
    if hooks is None:
        hooks = POST_HOOKS[key] = {}
        weakref.finalize(leaf, POST_HOOKS.pop, key, None)
    return add_hook(hooks, fn)


def _run_post_hooks(leaf):
    hooks = POST_HOOKS.get(id(leaf))
    if hooks:
        for h in list(hooks.values()):
            h(leaf)


def leaf_edges(roots):
    """The leaf tensors the graph of `roots` reaches, once per edge (a leaf two nodes feed is yielded
    twice); each node is visited once, without recursion. Roots that are leaves themselves are not
    edges: the caller decides what they mean."""
    seen, stack = set(), [t.grad_fn for t in roots if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for edge in node.next:
            if type(edge) is tuple:
                stack.append(edge[0])
            elif edge is not None:
                yield edge


class _EarlyLeaves:
    """How many graph edges still lead to each hooked leaf; the last one to arrive accumulates the
    leaf's gradient and runs its post-accumulate hooks in the middle of the walk. Leaves whose count
    never reaches zero (a branch that sent no gradient) are finished with the others at the end."""
    __slots__ = ("left", "handed", "create_graph")

    def __init__(self, roots, root_grads, create_graph):
        self.left = {}
        self.handed = {id(g._data) for g in root_grads}
        self.create_graph = create_graph
        for leaf in leaf_edges(roots):
            if POST_HOOKS.get(id(leaf)):
                self.left[id(leaf)] = self.left.get(id(leaf), 0) + 1

    def arrived(self, leaf, leaves):
        key = id(leaf)
        n = self.left.get(key)
        if n is None:
            return
        if n > 1:
            self.left[key] = n - 1
            return
        del self.left[key]
        ent = leaves.pop(key, None)
        if ent is not None:
            accumulate_grad(leaf, _leaf_hooks(leaf, ent[1]), self.create_graph, self.handed)
            _run_post_hooks(leaf)


def accumulate_grad(leaf, g, create_graph, handed=None):
    """Add g into leaf.grad (see _accumulate_grad); recorded while autograd.compile traces."""
    if TRACER is not None:
        return TRACER.accumulate_grad(_accumulate_grad, leaf, g, create_graph, handed)
    return _accumulate_grad(leaf, g, create_graph, handed)


def _accumulate_grad(leaf, g, create_graph, handed=None):
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
    elif create_graph:
        leaf.grad = leaf.grad + g
    else:
        be = g._backend
        quiet = be.enter_quiet()            # inf + -inf is nan, silently as in torch
        try:
            leaf.grad = _wrap(leaf.grad._data + g._data, be)
        finally:
            be.exit_quiet(quiet)


def _run_node_hooks(node, grads):
    for i, hooks in node.hooks.items():
        if grads[i] is not None:
            for h in sorted(hooks.values(), key=_retains_last):   # retain_grad sees the final grad
                r = h(grads[i])
                if r is not None:
                    grads[i] = _hook_result(h, grads[i], r)


def _hook_result(hook, g, r):
    """A hook's replacement gradient, checked like torch: same shape, dtype and device, so a
    wrong one is blamed on the hook rather than on the next op's rule."""
    name = getattr(hook, "__name__", type(hook).__name__)
    if not isinstance(r, type(g)):
        raise TypeError(f"hook '{name}' returned an object of type {type(r).__name__}; a gradient hook must return a "
                        f"Tensor or None")
    if r._data.shape != g._data.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value: the gradient has shape "
                           f"{tuple(g.shape)}, the hook returned shape {tuple(r.shape)}")
    if r._backend is not g._backend or r._data.dtype != g._data.dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value: the gradient is {g.dtype.name} on "
                           f"{g.device}, the hook returned {r.dtype.name} on {r.device}")
    return r


def _fill_unused(node, grads):
    """Outputs of a multi-output node that nobody used get a zero gradient (unless a custom
    Function said `ctx.set_materialize_grads(False)`: then None), non-tensor outputs None."""
    if not getattr(node, "materialize_grads", True):
        return
    be = next(x for x in grads if x is not None)._backend
    for i, g in enumerate(grads):
        if g is None:
            shape, dt = node.out_meta[i]
            if dt is not None:
                grads[i] = _wrap(be.xp.zeros(shape, dtype=dt), be)


def _retains_last(hook):
    return hasattr(hook, "_retains")


def _leaf_hooks(leaf, g):
    if leaf._hooks:
        for h in list(leaf._hooks.values()):
            r = h(g)
            if r is not None:
                g = _hook_result(h, g, r)
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
