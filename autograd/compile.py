"""`autograd.compile`: record a training step once, replay it as straight-line array code.

A call of the compiled function under new guards *traces*: it runs `fn` eagerly while a recorder
notes every array computation the step makes, at the level where the engine already names them:

* every primitive's forward, at `ops._core.apply` (forward ops, the ops inside backward rules,
  gradient summation, the optimizer's arithmetic): replayed by calling `op.forward` again, so the
  finite-value branches inside forwards are re-decided on the new data; a forward that keeps arrays
  for its rule (`graph.stash`: cross-entropy's exp and row sums) is recorded as one call returning
  them too (`_forward_kept`), so the rule's kernel reads the replay's own;
* the helpers marked `recorded`, each as one call: among them the hot rules' tracing branches
  (relu, Linear, cross-entropy), which record their eager array-level kernel rather than the
  several ops of their differentiable composite; Python branches inside a kernel are re-decided on
  each replay, which re-runs it whole;
* the array-namespace calls made outside forwards (`be.xp` is swapped for a recording proxy while
  tracing): raw array code in backward rules and helpers;
* the writes the engine makes itself: in-place updates (`inplace._write`), gradient accumulation
  into `.grad` (`graph.accumulate_grad`), `backend.setitem`, and random draws (the backend's
  generator methods, replayed on the same generator, so every replay draws fresh numbers from
  the stream eager would have used).

Arrays are numbered buffers: an op's result is a new buffer; an array met for the first time is an
*external*, bound to where it came from (an argument of fn, a Tensor that outlives the call, a
parameter's `.grad`) or, failing that, captured by value as a constant. A plan is kept only when
two consecutive traces under the same guards record the same plan (same steps, same constants
bit for bit, same state tensors): this is what catches first-call initialisation (an optimizer
creating its state) and per-call values that are not guarded. The plan is compiled into one
Python function of straight-line calls (`exec`), which replays the step on the new arguments'
arrays with no Tensor, Node or heap, updates parameters in place, sets `.grad` as eager would,
frees each buffer after its last use, and returns Tensors.

Data-dependent Python (`.item()`, `bool(t)`, `.tolist()`, `float(t)`, ...) inside fn ends
tracing for good: the call finishes eagerly, every later call runs eagerly, one warning names
the line (`fullgraph=True` raises `GraphBreak` there instead).
"""
from __future__ import annotations

import os
import sys
import threading
import types
import warnings

import backends as _backends
from backends import host as _np

from . import graph as _graph
from . import ledger as _ledger
from . import random as _random
from .grad_mode import grad_enabled
from .ops import _core
from .tensor import Tensor, _wrap

__all__ = ["compile", "GraphBreak", "CompiledFunction"]

_MISS = object()               # a replay's answer when a guard on state fails before anything ran
_MISS_CHECK = object()         # ... when a data-dependent check came out unlike in the trace
_MAX_TRACES_PER_KEY = 6       # traces under one guard key that never settle: give up, run eagerly
_MAX_PLANS = 8                # plans kept (guard keys); the oldest is dropped
_BREAKING = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__")
_RNG_METHODS = ("rng_random", "rng_normal", "rng_integers", "rng_permutation", "rng_poisson",
                "uniform", "normal", "integers", "permutation")


class GraphBreak(RuntimeError):
    """Raised under `compile(..., fullgraph=True)` where fn's Python depends on tensor values."""


# -----------------------------------------------------------------------------------------------
# templates: how a recorded argument is rebuilt at replay
#   ("c", value)        a constant          ("r", ref)           a buffer or external
#   ("t", [..]) / ("l", [..]) / ("d", [(k, ..)])   tuple / list / dict of templates
#   ("w", ref, be)      a Tensor around a buffer   ("g", be)   be's default generator, read at replay

def _copy_array(be, a):
    return be.asarray(a, copy=True)


def _add_arrays(a, b):
    return a + b


def _inplace_method(dst, o, method, alpha):
    if alpha != 1:
        o = o * alpha
    return getattr(dst, method)(o)


class _Tracer:
    def __init__(self, fullgraph, prev_leaves):
        self.thread = threading.get_ident()
        self.fullgraph = fullgraph
        self.refs = {}          # id(obj) -> ("b", k) | ("e", j)
        self.keep = []          # every object in refs stays alive, so ids stay unique
        self.steps = []
        self.ext = []           # ("arg", i) | ("obj", T) | ("grad", p) | ("const", arr)
        self.ext_arrays = []
        self.nbuf = 0
        self.depth = 0          # > 0 inside a recorded op's forward or helper: nothing nested is recorded
        self.broken = None
        self.unstable = None
        self.vc_bumps = {}      # id(vc) -> [vc, n]
        self.start_grad = {}    # id(p) -> (p, p.grad at trace start) for the previous trace's leaves
        self.grad_arrays = {}   # id(p.grad._data) at start -> p
        for p in prev_leaves:
            g = p.grad
            self.start_grad[id(p)] = (p, g)
            if g is not None:
                self.grad_arrays[id(g._data)] = p
        self.leaves = {}        # id(p) -> p: leaves that received a gradient
        self.observed = set()   # id(p) of leaves whose .grad from before the step was read
        self.restore = []
        self.checks = {}        # buffer -> traced 0-d bool value of a namespace call outside forwards
        self.born = {}          # id(vc) -> vc: version counters of tensors the step itself made

    # --- buffers --------------------------------------------------------------------------
    def active(self):
        return self.depth == 0 and self.broken is None and threading.get_ident() == self.thread

    def _bind(self, desc, arr):
        j = len(self.ext)
        self.ext.append(desc)
        self.ext_arrays.append(arr)
        self.keep.append(arr)
        r = self.refs[id(arr)] = ("e", j)
        return r

    def ref(self, arr, t=None):
        r = self.refs.get(id(arr))
        if r is not None:
            return r
        p = self.grad_arrays.get(id(arr))
        if p is not None:
            return self._bind(("grad", p), arr)
        return self._bind(("obj", t) if t is not None else ("const", arr), arr)

    def new(self, out):
        if id(out) in self.refs:            # a result that is one of the step's own arguments
            return None
        k = self.nbuf
        self.nbuf += 1
        self.refs[id(out)] = ("b", k)
        self.keep.append(out)
        return k

    def tmpl(self, x):
        tx = type(x)
        if tx is tuple or tx is list:
            return ("t" if tx is tuple else "l", [self.tmpl(v) for v in x])
        if tx is dict:
            return ("d", [(k, self.tmpl(v)) for k, v in x.items()])
        if isinstance(x, Tensor):
            return ("w", self.ref(x._data, x), x._backend)
        if tx in (int, float, bool, str, type(None), slice) or x is Ellipsis:
            return ("c", x)
        r = self.refs.get(id(x))
        if r is not None:
            return ("r", r)
        if isinstance(x, _backends.Backend):
            return ("c", x)
        for be in self.backends:
            if be.is_array(x):
                return ("r", self.ref(x))
            if x is self.defaults.get(be):
                return ("g", be)
        return ("c", x)

    # --- what the hooks call ----------------------------------------------------------------
    def apply(self, op, inputs, params):
        """ops._core.apply while tracing: run it untraced, record op.forward on its arrays."""
        record = self.active()
        _core.TRACER = None               # the plain apply, and nothing nested is recorded
        self.depth += 1
        try:
            res = _core.apply(op, inputs, *params)
        finally:
            self.depth -= 1
            if self.restore:              # still installed (a graph break uninstalls)
                _core.TRACER = self
        st = getattr(_graph._stash, "arrays", None)
        if record and self.broken is None:
            ins = [self.ref(t._data, t) for t in inputs]
            ps = [self.tmpl(p) for p in params]
            out = res._data
            if st and id(out) not in self.refs:
                # the forward kept arrays for its rule (graph.stash): recorded as one call returning
                # them too, so the rule's recorded kernel reads this replay's (see _forward_kept)
                kept = tuple(i for i, a in enumerate(st) if be_array(inputs[0]._backend, a))
                self.call(_forward_kept, (op.forward, inputs[0]._backend, kept) + tuple(t._data for t in inputs)
                          + tuple(params), {}, (out,) + tuple(st[i] for i in kept), op.name)
            else:
                if st:
                    _graph._stash.arrays = None     # not recorded with the forward: the rule recomputes
                k = self.new(out)
                if k is not None:
                    self.steps.append(("op", op.forward, inputs[0]._backend, ins, ps, k, out.ndim == 0, op.name))
            self.born[id(res._vc)] = res._vc
        elif st:
            _graph._stash.arrays = None
        return res

    def call(self, fn, args, kwargs, out, name):
        """A function of arrays called outside any forward (xp functions, helpers, draws)."""
        at = [self.tmpl(a) for a in args]
        kt = [(k, self.tmpl(v)) for k, v in kwargs.items()]
        if type(out) is tuple or type(out) is list:
            k = self.nbuf
            self.nbuf += 1
            self.keep.append(out)
            self.steps.append(("call", fn, at, kt, k, name))
            for i, o in enumerate(out):
                if id(o) not in self.refs and not isinstance(o, (int, float, bool)):
                    k2 = self.new(o)
                    self.steps.append(("item", k, i, k2))
            return
        k = self.new(out)
        if k is None:
            k = self.nbuf                  # a result aliasing an argument: run for effect only
            self.nbuf += 1
            self.keep.append(out)
        self.steps.append(("call", fn, at, kt, k, name))
        if getattr(out, "ndim", None) == 0 and "bool" in str(getattr(out, "dtype", "")):
            self.checks[k] = out           # a 0-d bool: likely decided a branch (`bool(xp.all(ok))`)

    def kernel(self, fn, tensors, params, out):
        """An engine computation on tensors' arrays outside any op (comparisons):
        out = fn(*arrays, *params)."""
        if not self.active():
            return
        for t in tensors:
            self.ref(t._data, t)                # bound through the tensor where it is new
        self.call(fn, tuple(t._data for t in tensors) + tuple(params), {}, out, fn.__name__.strip("_"))

    def write(self, t, src):
        """inplace._write: t's array <- src (whole array), and t's version bumped."""
        if not self.active():
            return
        d = self.ref(t._data, t)
        self.steps.append(("write", d, self.tmpl(src)))
        self._bump(t)

    def fast_inplace(self, t, o, method, alpha, out):
        """inplace._fast_binary_ (the optimizer's path): t's array updated by its in-place method."""
        if not self.active():
            return
        d = self.ref(t._data, t)
        ot = self.tmpl(o._data if isinstance(o, Tensor) else o)
        k = self.new(out)
        if k is None:                      # in place (NumPy, CuPy): the result is t's array itself
            k = self.nbuf
            self.nbuf += 1
        self.steps.append(("call", _inplace_method, [("r", d), ot, ("c", method), ("c", alpha)], [], k,
                           "inplace"))
        self._bump(t)

    def _bump(self, t):
        """t's version counter goes up by one on replay too (an argument's: the new argument's). A
        tensor the step made is made afresh by each replay: its version is set where the replay
        hands it out (a .grad), not bumped here."""
        if id(t._vc) in self.born:
            return
        r = self.refs.get(id(t._data))
        vc = ("arg", self.ext[r[1]][1]) if r is not None and r[0] == "e" and self.ext[r[1]][0] == "arg" \
            else t._vc
        e = self.vc_bumps.get(id(vc) if type(vc) is not tuple else vc)
        if e is None:
            self.vc_bumps[id(vc) if type(vc) is not tuple else vc] = [vc, 1]
        else:
            e[1] += 1

    def accumulate_grad(self, fn, leaf, g, create_graph, handed):
        if not self.active():
            return fn(leaf, g, create_graph, handed)
        if create_graph:
            self.graph_break("backward(create_graph=True)", sys._getframe(2))
            return fn(leaf, g, create_graph, handed)
        prev = leaf.grad
        gd = g._data
        start = self.start_grad.get(id(leaf))
        if start is not None and prev is start[1]:
            self.observed.add(id(leaf))        # the step read the .grad it started with: a guard
        if prev is not None:
            pref = self.ref(prev._data, prev)
        gref = self.ref(gd, g)
        fn(leaf, g, create_graph, handed)
        if leaf.grad is not prev:
            self.born[id(leaf.grad._vc)] = leaf.grad._vc
        new = leaf.grad._data
        self.leaves[id(leaf)] = leaf
        if id(leaf) not in self.start_grad:
            self.unstable = "a parameter received a gradient for the first time"
        if prev is None:
            if new is not gd:
                k = self.new(new)
                self.steps.append(("call", _copy_array, [("c", g._backend), ("r", gref)], [], k, "grad copy"))
        else:
            k = self.new(new)
            self.steps.append(("call", _add_arrays, [("r", pref), ("r", gref)], [], k, "grad accumulate"))

    def graph_break(self, what, frame):
        lib = _graph._LIB_DIRS
        inner = frame
        f = frame
        # (normalised: a library imported through `dir/../` still counts as the library)
        while f is not None and os.path.normpath(f.f_code.co_filename).startswith(lib):
            f = f.f_back
        where = f"{os.path.normpath(inner.f_code.co_filename)}:{inner.f_lineno}"
        if f is not None and f is not inner:
            where += f" (called from {f.f_code.co_filename}:{f.f_lineno})"
        self.broken = f"{what} at {where}"
        uninstall(self)
        if self.fullgraph:
            raise GraphBreak(f"autograd.compile(fullgraph=True): data-dependent Python: {self.broken}; "
                             f"the step cannot be captured as one graph")


# -----------------------------------------------------------------------------------------------
# installing the recorder: hooks in apply / graph / inplace, a proxy namespace, wrapped draws

_lock = threading.Lock()


class _XpProxy:
    """The array namespace, with every function call made outside a forward recorded."""

    def __init__(self, xp, tracer):
        object.__setattr__(self, "_xp", xp)
        object.__setattr__(self, "_tr", tracer)
        object.__setattr__(self, "_cache", {})

    def __getattr__(self, name):
        c = self._cache.get(name)
        if c is not None:
            return c
        v = getattr(self._xp, name)
        if not callable(v) or isinstance(v, type):
            return v
        tr = self._tr

        def rec(*args, **kwargs):
            out = v(*args, **kwargs)
            if tr.active():
                tr.call(v, args, kwargs, out, name)
            return out
        rec.__name__ = name
        self._cache[name] = rec
        return rec


def _breaker(name, orig):
    def f(self, *a, **k):
        tr = _graph.TRACER
        if tr is not None and tr.active():
            tr.graph_break(f"Tensor.{name}()", sys._getframe(1))
        return orig(self, *a, **k)
    f.__name__ = name
    return f


def be_array(be, a):
    """a is an array of be or a 0-d result standing for one (a NumPy scalar from a full reduction)."""
    return a is not None and not isinstance(a, (bool, int, float)) and (be.is_array(a) or hasattr(a, "dtype"))


def _forward_kept(fwd, be, kept, *args):
    """An op's forward that stashes arrays for its rule (graph.stash), replayed: (its result, the
    stashed arrays at positions `kept`), each a backend array (a 0-d result as well)."""
    _graph.want_stash()
    try:
        out = fwd(be, *args)
        st = _graph._stash.arrays
    finally:
        _graph._stash.arrays = None
    if not be.is_array(out):
        out = be.asarray(out)
    return (out,) + tuple(st[i] if be.is_array(st[i]) else be.asarray(st[i]) for i in kept)


def _recording(tr, orig, name, replay=None, bound=()):
    """`orig` run as it is, and recorded (as `replay(*bound, *args)`) when a trace is active and
    unbroken; nested engine calls inside it are not recorded twice (depth)."""
    replay = orig if replay is None else replay

    def rec(*args, **kwargs):
        if not tr.active():
            return orig(*args, **kwargs)
        tr.depth += 1
        try:
            out = orig(*args, **kwargs)
        finally:
            tr.depth -= 1
        if tr.broken is None:
            tr.call(replay, bound + args, kwargs, out, name)
        return out
    return rec


def recorded(fn):
    """For library helpers: `fn(*args)` returns arrays (or a tuple of them) computed from its
    arguments alone (Python values, backend arrays) with array code the recorder cannot see (raw
    array operators: `xp.arange(n) * s - p`). While autograd.compile traces, a call is recorded as
    one step: replayed as a call of fn, or, where every argument is a constant (shapes, sizes), a
    constant of the plan computed once. Outside a trace it is fn itself, plus one check."""
    def rec(*args, **kwargs):
        tr = _graph.TRACER
        if tr is None or not tr.active():
            return fn(*args, **kwargs)
        tr.depth += 1
        try:
            out = fn(*args, **kwargs)
        finally:
            tr.depth -= 1
        if tr.broken is None:
            tr.call(fn, args, kwargs, out, fn.__name__.strip("_"))
        return out
    rec.__name__, rec.__qualname__, rec.__doc__, rec.__wrapped__ = fn.__name__, fn.__qualname__, fn.__doc__, fn
    return rec


def _factory_data(factory, *args, **kwargs):
    return factory(*args, **kwargs)._data


def _wrap_factory(tr, name):
    """autograd.<name> (a creation function of Python numbers whose body does array arithmetic
    the namespace proxy cannot see, `xp.arange(n) * step + start`) recorded as one call of its
    arguments: a constant of the plan, computed once (folded) where every argument is one."""
    orig = getattr(_autograd_pkg(), name)

    def rec(*args, **kwargs):
        if not tr.active():
            return orig(*args, **kwargs)
        tr.depth += 1
        try:
            t = orig(*args, **kwargs)
        finally:
            tr.depth -= 1
        if tr.broken is None and not t.requires_grad:
            tr.call(_factory_data, (orig,) + args, kwargs, t._data, name)
        return t
    rec.__name__ = name
    return rec


def _pieces_arrays(mod, be, xa, dim, bounds, keep):
    """The arrays of ops.shape.pieces (split, chunk, unbind): its multi-output forward, which it
    calls directly rather than through apply."""
    lead = (slice(None),) * dim
    indices = tuple(lead + ((slice(lo, hi) if keep else lo), Ellipsis) for lo, hi in bounds)
    return tuple((mod.Split if keep else mod.Unbind).forward(be, xa, dim, tuple(bounds), keep, indices))


def _wrap_pieces(tr, mod):
    orig = mod.pieces

    def rec(x, dim, bounds, keep=True, multi=None):
        if not tr.active():
            return orig(x, dim, bounds, keep, multi)
        tr.depth += 1
        try:
            outs = orig(x, dim, bounds, keep, multi)
        finally:
            tr.depth -= 1
        if tr.broken is None:
            tr.ref(x._data, x)
            tr.call(_pieces_arrays, (mod, x._backend, x._data, dim, tuple(bounds), keep), {},
                    tuple(o._data for o in outs), "split")
        return outs
    return rec


def _autograd_pkg():
    return sys.modules[__name__.rpartition(".")[0]]


_FACTORIES = ("arange", "linspace", "eye")


def _wrap_method(tr, be, name):
    return _recording(tr, getattr(be, name), name, getattr(type(be), name), (be,))


def _wrap_helper(tr, name):
    return _recording(tr, getattr(_random, name), name)


def install(tr):
    bes = list(dict.fromkeys(_backends._registry.values()))
    tr.backends = bes
    tr.defaults = {}
    undo = tr.restore
    for be in bes:
        try:
            tr.defaults[be] = be.rng_default()
        except Exception:  # noqa: BLE001 - a backend without generators
            pass
        had = be.__dict__.get("xp", _MISS)
        undo.append((be, "xp", had))
        be.xp = _XpProxy(be.xp, tr)
        for name in _RNG_METHODS + ("setitem",):
            if hasattr(be, name):
                undo.append((be, name, be.__dict__.get(name, _MISS)))
                setattr(be, name, _wrap_method(tr, be, name))
    for name in ("uniform01",):
        undo.append((_random, name, _random.__dict__[name]))
        setattr(_random, name, _wrap_helper(tr, name))
    from .ops import shape as _shape
    undo.append((_shape, "pieces", _shape.__dict__["pieces"]))
    _shape.pieces = _wrap_pieces(tr, _shape)
    pkg = _autograd_pkg()
    for name in _FACTORIES:
        undo.append((pkg, name, pkg.__dict__[name]))
        setattr(pkg, name, _wrap_factory(tr, name))
    for name in _BREAKING:
        orig = Tensor.__dict__[name]
        undo.append((Tensor, name, orig))
        setattr(Tensor, name, _breaker(name, orig))
    _core.TRACER = tr
    _graph.TRACER = tr


def uninstall(tr):
    if _core.TRACER is tr:
        _core.TRACER = None
        _graph.TRACER = None
    while tr.restore:
        obj, name, old = tr.restore.pop()
        if old is _MISS:
            try:
                delattr(obj, name)
            except AttributeError:
                pass
        else:
            setattr(obj, name, old)


# -----------------------------------------------------------------------------------------------
# a finished trace: its description, compared between traces, and the replay function made from it

class _TraceProfile(_ledger.profile_memory):
    """While a trace runs: the saved-for-backward events of the eager step (profile_memory's
    bookkeeping), passed on to the user's profiler if one is active; a replay, which records no
    tape, re-emits them to the profiler active then, so that profile_memory and its peak read as
    for the eager step (the replay itself frees each buffer at its last use, no later than eager)."""

    def __init__(self, outer):
        super().__init__()
        self.outer = outer
        self._t0 = 0.0
        self._active = True

    def saved(self, node):
        super().saved(node)
        if self.outer is not None:
            self.outer.saved(node)

    def freed(self, node):
        super().freed(node)
        if self.outer is not None:
            self.outer.freed(node)


def _emit_memory(events):
    prof = _graph.PROFILER
    for delta, op, kind in events:
        prof._event(delta, op, kind)


class _Desc:
    __slots__ = ("steps", "ext", "ext_arrays", "writes", "out", "leaf_guards", "nbuf", "vc", "params", "live_steps",
                 "used", "guards", "owned", "mem_events")


def _finish(tr, out):
    """The trace as a _Desc, or a string saying why the step cannot be replayed."""
    d = _Desc()
    d.steps, d.ext, d.ext_arrays, d.nbuf = tr.steps, tr.ext, tr.ext_arrays, tr.nbuf
    d.mem_events = getattr(tr, "mem_events", ())
    d.vc = [(vc, n) for vc, n in tr.vc_bumps.values()]
    writes = []
    # state tensors whose array was replaced (rather than written into)
    for j, desc in enumerate(tr.ext):
        if desc[0] == "obj":
            t = desc[1]
            if t._data is not tr.ext_arrays[j]:
                r = tr.refs.get(id(t._data))
                if r is None:
                    return "a tensor's array was replaced by one computed outside the recorded ops"
                writes.append(("data", t, r))
    # .grad of the leaves the step touched
    guards = []
    for key in dict.fromkeys(list(tr.start_grad) + list(tr.leaves)):
        if key in tr.start_grad:
            p, g0 = tr.start_grad[key]
            if key in tr.observed:
                guards.append((p, g0 is None))
        else:
            p, g0 = tr.leaves[key], None
        g = p.grad
        if g is None:
            if g0 is not None:
                writes.append(("grad", p, None))
            continue
        if g is g0:
            continue
        r = tr.refs.get(id(g._data))
        if r is None:
            return "a parameter's .grad was set to a tensor computed outside the recorded ops"
        # a .grad the step made, written into in place afterwards (clipping): its version
        writes.append(("grad", p, r, g._backend, g._vc[0] if id(g._vc) in tr.born else 0))
    d.writes = writes
    d.leaf_guards = guards
    bound = {id(desc[1]) for desc in tr.ext if desc[0] in ("obj", "grad")}
    d.params = [(m.__dict__["_parameters"], k, p) for m in tr.mods
                for k, p in m.__dict__.get("_parameters", {}).items() if id(p) in bound]
    try:
        d.out = _out_tmpl(tr, out)
    except _Unsupported as e:
        return e                            # for good: every call would hit it
    # an array no step produced and no tensor holds, which nothing outside this trace keeps alive,
    # was computed during the step by code the recorder cannot see (array operators outside any
    # op, `mask = out._data != 0`): as a constant it would be stale on the next call. 0-d ones
    # are Python numbers made arrays (`x * 0.5`), which are constants.
    # data-dependent checks: a 0-d bool the step computed through the namespace and then used
    # for nothing recorded was a Python branch (`if bool(xp.all(ok)):` in a backward rule). The
    # replay recomputes it and gives up (retraces) where it comes out differently, instead of
    # replaying the branch the trace took on data that would take the other one.
    live, uses, final = _liveness(d)
    d.guards = [(i, s[4], tr.checks[s[4]]) for i, s in enumerate(d.steps)
                if not live[i] and s[0] == "call" and s[4] in tr.checks]
    if d.guards:
        live, uses, final = _liveness(d, [g[0] for g in d.guards])
    used = {r for i, u in enumerate(uses) if live[i] for r in u} | set(final)
    # what two traces must agree on: the steps that matter (dead ones are checks whose result only
    # fed a Python branch) and the externals those read
    d.live_steps = [st for st, lv in zip(d.steps, live) if lv]
    d.used = used
    views = {}                              # id(base) -> how many recorded arrays are views of it
    for o in tr.keep:
        b = getattr(o, "base", None)
        if b is not None:
            views[id(b)] = views.get(id(b), 0) + 1
    # buffers that own their memory, that no other recorded array views, of a float dtype (NumPy
    # and CuPy arrays, which tell their `base`): an in-place scale of one that is dead after the
    # step reading it cannot be seen by anything else
    d.owned = set()
    for o in tr.keep:
        r = tr.refs.get(id(o))
        if r is not None and r[0] == "b" and hasattr(o, "base") and o.base is None and id(o) not in views \
                and getattr(getattr(o, "dtype", None), "kind", "") == "f":
            d.owned.add(r[1])
    for j, desc in enumerate(tr.ext):
        a = tr.ext_arrays[j]
        if desc[0] == "const" and ("e", j) in used and getattr(a, "ndim", 0) and \
                sys.getrefcount(a) - 1 - views.get(id(a), 0) <= _TEMP_REFS:      # - 1: the local `a`
            return (f"an array of shape {tuple(tr.ext_arrays[j].shape)} used by {_user_of(tr, j)} was computed "
                    f"outside the recorded operations (array operators on raw arrays)")
    return d


_TEMP_REFS = 4        # getrefcount of an array held only by the tracer (keep, ext_arrays, its binding) and the call


def _user_of(tr, j):
    for s in tr.steps:
        if repr(("e", j)) in repr(s[3:5] if s[0] == "op" else s[2:4] if s[0] == "call" else s[1:3]):
            return f"op '{s[7]}'" if s[0] == "op" else f"'{s[5]}'"
    return "the step"


class _Unsupported(Exception):
    pass


def _out_tmpl(tr, x):
    tx = type(x)
    if tx is tuple or tx is list:
        return ("t" if tx is tuple else "l", [_out_tmpl(tr, v) for v in x])
    if tx is dict:
        return ("d", [(k, _out_tmpl(tr, v)) for k, v in x.items()])
    if isinstance(x, Tensor):
        n = x.grad_fn
        if x._rg and n is not None and n.saved is not None and n.saved != ():
            raise _Unsupported("fn returns a tensor whose graph was not backpropagated inside fn "
                               "(compile the whole step, backward included)")
        r = tr.refs.get(id(x._data))
        if r is None:
            r = tr.ref(x._data, x)
        return ("w", r, x._backend)
    return ("c", x)


def _same_value(a, b):
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, (int, float, bool, str, type(None), slice)):
        return a == b or (a != a and b != b)
    for be in _backends._registry.values():
        if be.is_array(a):
            try:
                x, y = be.to_numpy(a), be.to_numpy(b)
            except Exception:  # noqa: BLE001
                return False
            return x.shape == y.shape and x.dtype == y.dtype and x.tobytes() == y.tobytes()
    if isinstance(a, _np.generic):
        return a.tobytes() == b.tobytes() and a.dtype == b.dtype
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


def _same_tmpl(a, b):
    if a[0] != b[0]:
        return False
    k = a[0]
    if k == "c":
        return _same_value(a[1], b[1])
    if k == "r":
        return a[1] == b[1]
    if k in ("t", "l"):
        return len(a[1]) == len(b[1]) and all(_same_tmpl(x, y) for x, y in zip(a[1], b[1]))
    if k == "d":
        return len(a[1]) == len(b[1]) and all(ka == kb and _same_tmpl(x, y) for (ka, x), (kb, y) in zip(a[1], b[1]))
    if k == "w":
        return a[1] == b[1] and a[2] is b[2]
    return a[1] is b[1]                  # "g"


def _same(a, b):
    """None if two traces recorded the same plan, else what differs. Externals bound to different tensors that hold
    equal values are made constants of b (tensors made afresh on each call)."""
    if len(a.live_steps) != len(b.live_steps) or len(a.ext) != len(b.ext) or a.used != b.used:
        return "a different number of steps or externals"
    for sa, sb in zip(a.live_steps, b.live_steps):
        if sa[0] != sb[0] or len(sa) != len(sb):
            return "a step of another kind"
        kind = sa[0]
        if kind == "op":
            if sa[1] is not sb[1] or sa[2] is not sb[2] or sa[3] != sb[3] or sa[5:7] != sb[5:7]:
                return "another op or other inputs"
            if len(sa[4]) != len(sb[4]) or not all(_same_tmpl(x, y) for x, y in zip(sa[4], sb[4])):
                return "an op's parameters changed"
        elif kind == "call":
            if sa[1] is not sb[1] and sa[1] != sb[1] or sa[4] != sb[4]:
                return "another function called"
            if len(sa[2]) != len(sb[2]) or not all(_same_tmpl(x, y) for x, y in zip(sa[2], sb[2])):
                return "a call's arguments changed"
            if len(sa[3]) != len(sb[3]) or not all(ka == kb and _same_tmpl(x, y)
                                                   for (ka, x), (kb, y) in zip(sa[3], sb[3])):
                return "a call's keyword arguments changed"
        elif kind == "write":
            if sa[1] != sb[1] or not _same_tmpl(sa[2], sb[2]):
                return "a write changed"
        elif sa != sb:
            return "a step changed"
    for j, (da, db) in enumerate(zip(a.ext, b.ext)):
        if ("e", j) not in b.used:
            continue
        if da[0] == "obj" and db[0] == "obj" and da[1] is not db[1] or da[0] != db[0]:
            if da[0] in ("obj", "const") and db[0] in ("obj", "const") and \
                    _same_value(a.ext_arrays[j], b.ext_arrays[j]):
                b.ext[j] = ("const", b.ext_arrays[j])
                continue
            return f"a state tensor or constant used by {_user_of(b, j)} changed"
        if da[0] == "const" and not _same_value(a.ext_arrays[j], b.ext_arrays[j]):
            return f"the value of a constant used by {_user_of(b, j)} changed"
        if da[0] in ("obj", "grad") and da[1] is not db[1]:
            return "another state tensor"
        if da[0] == "arg" and da[1] != db[1]:
            return "another argument"
    # (leaf_guards are not compared: they are the start state this trace saw, checked on replay;
    # the first call of a step often starts with no .grad where later calls start with one)
    if [(i, k) for i, k, _ in a.guards] != [(i, k) for i, k, _ in b.guards] or \
            any(not _same_value(va, vb) for (_, _, va), (_, _, vb) in zip(a.guards, b.guards)):
        return "a data-dependent check came out differently"
    if len(a.writes) != len(b.writes):
        return "other write-backs"
    for wa, wb in zip(a.writes, b.writes):
        if wa[0] != wb[0] or wa[1] is not wb[1] or wa[2] != wb[2] or wa[4:] != wb[4:]:
            return "a write-back changed"
    if len(a.vc) != len(b.vc) or any(va is not vb and va != vb or na != nb for (va, na), (vb, nb) in zip(a.vc, b.vc)):
        return "other version bumps"
    return None if _same_tmpl(a.out, b.out) else "outputs differ"


def _refs_of(t, acc):
    k = t[0]
    if k == "r" or k == "w":
        acc.append(t[1])
    elif k in ("t", "l"):
        for x in t[1]:
            _refs_of(x, acc)
    elif k == "d":
        for _, x in t[1]:
            _refs_of(x, acc)
    return acc


def _liveness(d, seeds=()):
    """(live flag per step, refs each step reads, refs the outputs and write-backs read): a step
    is live when a write, a random draw, a guard (`seeds`: step indices), or something live or
    returned needs it."""
    refs_of = _refs_of
    # uses of each step, for dead-code removal and freeing after the last use
    steps = d.steps
    uses = []
    for s in steps:
        kind = s[0]
        acc = []
        if kind == "op":
            acc += s[3]
            for p in s[4]:
                refs_of(p, acc)
        elif kind == "call":
            for a in s[2]:
                refs_of(a, acc)
            for _, a in s[3]:
                refs_of(a, acc)
        elif kind == "write":
            acc.append(s[1])
            refs_of(s[2], acc)
        elif kind == "item":
            acc.append(("b", s[1]))
        uses.append(acc)
    final = refs_of(d.out, [])
    for w in d.writes:
        if len(w) > 2 and w[2] is not None:
            final.append(w[2])
    # live steps: writes, draws, and whatever they or the outputs need
    producer = {}
    for i, s in enumerate(steps):
        k = s[5] if s[0] == "op" else s[4] if s[0] == "call" else s[3] if s[0] == "item" else None
        if k is not None:
            producer[k] = i
    live = [False] * len(steps)
    work = [producer[r[1]] for r in final if r[0] == "b" and r[1] in producer] + list(seeds)
    for i, s in enumerate(steps):
        if s[0] == "write" or s[0] == "call" and (s[5] in _RNG_METHODS or s[5] in ("uniform01", "setitem", "inplace")):
            work.append(i)
    while work:
        i = work.pop()
        if live[i]:
            continue
        live[i] = True
        for r in uses[i]:
            if r[0] == "b" and r[1] in producer:
                work.append(producer[r[1]])
    return live, uses, final


_SIDE_EFFECTS = set(_RNG_METHODS) | {"uniform01", "setitem", "inplace"}


def _fold(d, live, final):
    """{buffer: value} for the namespace calls whose arguments are all constants (`xp.zeros((),
    dtype)`, `xp.arange(c)`): computed once here instead of on every replay. Not for draws or
    writes, for buffers something writes into, nor for what the step returns or stores (a user
    could write into those)."""
    targets = {s[1] for s in d.steps if s[0] == "write"}
    targets |= {s[2][0][1] for s in d.steps if s[0] == "call" and s[1] is _inplace_method}
    keep = {r[1] for r in final if r[0] == "b"} | {r[1] for r in targets if r[0] == "b"}
    consts = {("e", j): d.ext_arrays[j] for j, desc in enumerate(d.ext) if desc[0] == "const"}
    folded = {}

    def val(t):
        k = t[0]
        if k == "c":
            return t[1]
        if k == "r":
            r = t[1]
            if r in consts:
                return consts[r]
            if r[0] == "b" and r[1] in folded:
                return folded[r[1]]
            raise KeyError
        if k in ("t", "l"):
            v = [val(x) for x in t[1]]
            return tuple(v) if k == "t" else v
        if k == "d":
            return {k2: val(x) for k2, x in t[1]}
        raise KeyError

    items = {}                                      # a tuple-valued call's buffer -> its item steps
    for s in d.steps:
        if s[0] == "item":
            items.setdefault(s[1], []).append(s)
    for i, s in enumerate(d.steps):
        if not live[i]:
            continue
        if s[0] == "item":                           # an element of a folded tuple
            if s[1] in folded:
                folded[s[3]] = folded[s[1]][s[2]]
            continue
        if s[0] == "op" and s[5] not in keep:          # a forward of constants (`ones / n`)
            try:
                args = [val(("r", r)) for r in s[3]] + [val(p) for p in s[4]]
            except KeyError:
                continue
            be = s[2]
            q = be.enter_quiet()
            try:
                out = s[1](be, *args)
            finally:
                be.exit_quiet(q)
            if not be.is_array(out):
                out = be.asarray(out)
            folded[s[5]] = out
            continue
        if s[0] != "call" or s[5] in _SIDE_EFFECTS or s[4] in keep or s[1] in (_copy_array, _add_arrays):
            continue
        try:
            args = [val(a) for a in s[2]]
            kwargs = {k: val(a) for k, a in s[3]}
        except KeyError:
            continue
        if any(it[3] in keep for it in items.get(s[4], ())):
            continue                                # (an element is returned or written into)
        out = s[1](*args, **kwargs)
        folded[s[4]] = out                          # a tuple too: its items are folded with it
    return folded


def _is_write(s):
    return s[0] == "write" or s[0] == "call" and s[5] in ("setitem", "inplace")


def _hoist_checks(d, live, uses):
    """The order the replay runs the steps in: the trace's, except that a data-dependent check
    (d.guards) recorded after the step's first in-place write, whose value depends only on the
    arguments and constants (nothing written, drawn or read from state) through namespace calls,
    is computed, with those calls, just before that write: there a failing check can still retrace cleanly
    (nll_loss's target check after BatchNorm's running statistics, say). Same values: those
    steps read nothing that any step writes."""
    steps = d.steps
    n = len(steps)
    first = next((i for i in range(n) if live[i] and _is_write(steps[i])), None)
    late = [g[0] for g in d.guards if first is not None and g[0] > first]
    if not late:
        return range(n)
    written = set()
    for s in steps:
        if s[0] == "write":
            written.add(s[1])
        elif _is_write(s):                  # inplace(dst, ...) / setitem(backend, arr, ...)
            t = s[2][0] if s[5] == "inplace" else s[2][1] if len(s[2]) > 1 else ("c", None)
            if t[0] == "r":
                written.add(t[1])
    producer = {}
    for i, s in enumerate(steps):
        k = s[5] if s[0] == "op" else s[4] if s[0] == "call" else s[3] if s[0] == "item" else None
        if k is not None:
            producer[k] = i
    hoist = set()
    for g in late:
        closure, stack, ok = set(), [g], True
        while stack and ok:
            i = stack.pop()
            if i in closure:
                continue
            s = steps[i]
            # namespace calls only: an op's forward may raise by design (a range check), and
            # raised earlier it would skip writes that eager makes before raising
            if s[0] == "op" or _is_write(s) or s[0] == "call" and s[5] in _SIDE_EFFECTS:
                ok = False
                break
            closure.add(i)
            for r in uses[i]:
                if r in written or r[0] == "e" and d.ext[r[1]][0] not in ("arg", "const"):
                    ok = False
                    break
                if r[0] == "b":
                    if r[1] not in producer:
                        ok = False
                        break
                    stack.append(producer[r[1]])
        if ok:
            hoist |= closure
    hoist = {i for i in hoist if i > first}
    if not hoist:
        return range(n)
    return list(range(first)) + sorted(hoist) + [i for i in range(first, n) if i not in hoist]


def _restore_rng(states):
    for be, rng, st in states:
        be.rng_set_state(rng, st)


def _codegen(d, graph=None):
    """The replay function: straight-line Python over the plan's buffers (with `graph`, a
    _GraphPlan around it that replays through a device graph where the backend has one)."""
    ns = {"_MISS": _MISS, "_MISS_CHECK": _MISS_CHECK, "W": _wrap}
    names = {}

    def name(obj, hint="k"):
        key = id(obj)
        n = names.get(key)
        if n is None:
            n = names[key] = f"{hint}{len(names)}"
            ns[n] = obj
        return n

    folded = {}

    def var(r):
        if r[0] == "b":
            return name(folded[r[1]], "k") if r[1] in folded else f"b{r[1]}"
        return f"e{r[1]}"

    def expr(t):
        k = t[0]
        if k == "c":
            v = t[1]
            if type(v) in (int, bool, type(None)) or type(v) is float and v == v and v not in (float("inf"), -float("inf")):
                return repr(v)
            return name(v, "c")
        if k == "r":
            return var(t[1])
        if k == "t":
            return "(" + "".join(expr(x) + ", " for x in t[1]) + ")"
        if k == "l":
            return "[" + ", ".join(expr(x) for x in t[1]) + "]"
        if k == "d":
            return "{" + ", ".join(f"{k2!r}: {expr(x)}" for k2, x in t[1]) + "}"
        if k == "w":
            return f"W({var(t[1])}, {name(t[2], 'be')})"
        return f"{name(t[1].rng_default, 'rng')}()"          # "g"

    steps = d.steps
    live, uses, final = _liveness(d, [g[0] for g in d.guards])
    guard_at = {i: (k, v) for i, k, v in d.guards}
    folded.update(_fold(d, live, final))
    order = _hoist_checks(d, live, uses)
    last = {}
    for i in order:
        s = steps[i]
        if live[i] and not (s[0] == "call" and s[4] in folded or s[0] == "op" and s[5] in folded):
            for r in uses[i]:
                if r[0] == "b":
                    last[r[1]] = i
    keep_to_end = {r[1] for r in final if r[0] == "b"}

    L = ["def replay(args):"]
    for j, desc in enumerate(d.ext):
        kind = desc[0]
        a = d.ext_arrays[j]
        if kind == "arg":
            L.append(f"    e{j} = args[{desc[1]}]._data")
            continue
        if kind == "const":
            L.append(f"    e{j} = {name(a, 'c')}")
            continue
        src = f"{name(desc[1], 't')}" + (".grad" if kind == "grad" else "")
        if kind == "grad":
            L.append(f"    g{j} = {src}")
            L.append(f"    if g{j} is None: return _MISS")
            src = f"g{j}"
        L.append(f"    e{j} = {src}._data")
        # the array the trace saw (a parameter updated in place keeps it) needs no shape check
        same = f"e{j} is not {name(a, 's')} and " if kind == "obj" else ""
        L.append(f"    if {same}(e{j}.shape != {tuple(a.shape)!r} or e{j}.dtype != {name(a.dtype, 'dt')}): "
                 f"return _MISS")
    for p, was_none in d.leaf_guards:
        L.append(f"    if ({name(p, 't')}.grad is None) is not {was_none}: return _MISS")
    # a module's parameter replaced by another tensor (`lin.weight = nn.Parameter(...)`): the plan
    # reads the old one, so it must not run
    for pd, key, p in d.params:
        L.append(f"    if {name(pd, 'pd')}.get({key!r}) is not {name(p, 't')}: return _MISS")
    bes = list(dict.fromkeys([s[2] for s in steps if s[0] == "op"] +
                             [s[2][1][1] for s in steps if s[0] == "call" and s[1] is _forward_kept] +
                             [w[3] for w in d.writes if w[0] == "grad" and w[2] is not None]))
    for i, be in enumerate(bes):
        L.append(f"    q{i} = {name(be.enter_quiet, 'qe')}()")
    L.append("    try:")
    body = []
    draws = []                  # (backend, rng expression) of the draws made so far
    wrote = snap = False
    for i in order:
        s = steps[i]
        if not live[i]:
            continue
        kind = s[0]
        if kind == "write" or kind == "call" and s[5] in ("setitem", "inplace"):
            wrote = True
        if kind == "call" and s[5] in _RNG_METHODS + ("uniform01",):
            be = s[2][0][1]
            if s[5] in ("uniform", "normal", "integers", "permutation"):    # the default generator's
                draws.append((be, f"{name(be.rng_default, 'rng')}()"))
            else:                                                          # rng is the 2nd argument
                draws.append((be, expr(s[2][1]) if len(s[2]) > 1 else None))
        if kind == "op" and s[5] in folded:
            continue
        if kind == "op":
            _, fwd, be, ins, ps, k, zero_d, opname = s
            args = ", ".join([name(be, "be")] + [var(r) for r in ins] + [expr(p) for p in ps])
            body.append(f"b{k} = {name(fwd, 'f_' + opname + '_')}({args})")
            if zero_d:
                body.append(f"if type(b{k}) is not {name(be.array_type, 'AT')}: b{k} = {name(be.asarray, 'asa')}(b{k})")
        elif kind == "call" and s[4] in folded:
            continue
        elif kind == "call" and s[1] is _inplace_method and s[2][2][0] == "c" and s[2][3][0] == "c":
            # the optimizer's in-place update, inline: dst.__isub__(o * alpha)
            dst, o, method, alpha = s[2]
            if alpha[1] == 1:
                o = expr(o)
            elif type(alpha[1]) in (int, float) and o[0] == "r" and o[1][0] == "b" and o[1][1] in d.owned and \
                    last.get(o[1][1]) == i and o[1][1] not in keep_to_end and o[1][1] not in folded and o != dst:
                # the update's operand is dead after it: scaled in place (`g *= lr; W -= g`, the
                # same numbers as `W -= g * lr`, without a temporary: a fresh large array costs
                # page faults on every replay)
                body.append(f"{expr(o)} *= {expr(alpha)}")
                o = expr(o)
            else:
                o = f"{expr(o)} * {expr(alpha)}"
            body.append(f"b{s[4]} = {expr(dst)}.{method[1]}({o})")
        elif kind == "call":
            _, fn, at, kt, k, nm = s
            args = ", ".join([expr(a) for a in at] + [f"{k2}={expr(a)}" for k2, a in kt])
            body.append(f"b{k} = {name(fn, 'f_' + nm.replace(' ', '_') + '_')}({args})")
        elif kind == "write":
            body.append(f"{var(s[1])}[...] = {expr(s[2])}")
        elif kind == "item":
            if s[3] in folded:
                continue
            body.append(f"b{s[3]} = b{s[1]}[{s[2]}]")
        if i in guard_at:
            k, v = guard_at[i]
            if wrote:
                raise _Unsupported(f"a data-dependent check ('{s[-1]}') comes after an in-place write")
            miss = "return _MISS_CHECK"
            if draws:           # put the generators back, so the eager re-run draws what eager would
                if any(r is None for _, r in draws):
                    raise _Unsupported("a data-dependent check comes after a draw from an unknown generator")
                miss = "_restore(_rs); return _MISS_CHECK"
                snap = True
            body.append(f"if not ({var(('b', k))} == {name(v, 'chk')}): {miss}")
        dead = [k for k, li in last.items() if li == i and k not in keep_to_end and k not in folded]
        if dead:
            body.append("del " + ", ".join(f"b{k}" for k in sorted(dead)))
    if snap:
        pairs = ", ".join(f"({name(be, 'be')}, {r})" for be, r in dict.fromkeys(draws))
        L.insert(L.index("    try:"), f"    _rs = [(b, r, b.rng_get_state(r)) for b, r in ({pairs},)]")
        ns["_restore"] = _restore_rng
    L += ["        " + x for x in body] or ["        pass"]
    L.append("    finally:")
    for i, be in reversed(list(enumerate(bes))):
        L.append(f"        {name(be.exit_quiet, 'qx')}(q{i})")
    if not bes:
        L.append("        pass")
    for w in d.writes:
        if w[0] == "data":
            L.append(f"    {name(w[1], 't')}._data = {var(w[2])}")
        elif w[2] is None:
            L.append(f"    {name(w[1], 't')}.grad = None")
        else:
            L.append(f"    {name(w[1], 't')}.grad = W({var(w[2])}, {name(w[3], 'be')})")
            if w[4]:
                L.append(f"    {name(w[1], 't')}.grad._vc[0] = {w[4]}")
    for vc, n in d.vc:
        if type(vc) is tuple:
            L.append(f"    args[{vc[1]}]._vc[0] += {n}")
        else:
            L.append(f"    {name(vc, 'vc')}[0] += {n}")
    if d.mem_events:        # profile_memory active: the eager step's saved-memory events
        L.append(f"    if {name(_graph, 'G')}.PROFILER is not None: {name(_emit_memory, 'mem')}({name(d.mem_events, 'ev')})")
    L.append(f"    return {expr(d.out)}")
    src = "\n".join(L)
    exec(compile_builtin(src, "<autograd.compile replay>", "exec"), ns)
    fn = ns["replay"]
    fn.source = src
    if graph is None:
        return fn
    # --- the same plan for a device graph: head (guards, externals), body (the array code,
    # captured once), tail (write-backs, versions, outputs read from the static buffers)
    if len(bes) != 1:
        return _GraphPlan(fn, None, None, None, None, "the step uses more than one backend")
    if draws:
        return _GraphPlan(fn, None, None, None, None, "the step draws random numbers (a captured draw would "
                                                      "repeat the same numbers on every launch)")
    if d.guards:
        return _GraphPlan(fn, None, None, None, None, "the step makes data-dependent checks on the host")
    be = bes[0]
    ext = ", ".join(f"e{j}" for j in range(len(d.ext)))
    ext_t = f"({ext},)" if d.ext else "()"
    outs = list(dict.fromkeys(r[1] for r in final if r[0] == "b"))
    outs_t = "(" + "".join(f"b{k}, " for k in outs) + ")"
    head = ["def head(args):"] + L[1:L.index("    try:")]
    head = [x for x in head if not x.startswith("    q")] + [f"    return {ext_t}"]
    gbody = [f"def gbody({ext}):"] + ["    " + x for x in body] + [f"    return {outs_t}"]
    tail = ["def tail(args, ext, outs):", f"    {ext_t} = ext", f"    {outs_t} = outs"]
    tail += [x for x in L[L.index("    finally:") + 1 + max(len(bes), 1):] if not x.startswith("    return ")]
    returned = {r[1] for r in _refs_of(d.out, []) if r[0] == "b"}
    tail += [f"    b{k} = {name(_copy_array, 'cp')}({name(be, 'be')}, b{k})" for k in outs if k in returned]
    tail.append(f"    return {expr(d.out)}")
    gsrc = "\n".join(head + [""] + gbody + [""] + tail)
    exec(compile_builtin(gsrc, "<autograd.compile graph replay>", "exec"), ns)
    # arguments and .grad arrays are read from private static copies, refreshed before each
    # launch; parameters, state and constants must be the very arrays the graph captured
    copy_in = [j for j, desc in enumerate(d.ext) if desc[0] in ("arg", "grad")]
    gp = _GraphPlan(fn, ns["head"], ns["gbody"], ns["tail"], be, None, copy_in)
    gp.source = src + "\n\n# with a device graph:\n" + gsrc
    return gp


class _GraphPlan:
    """A plan replayed through a device graph (`mode="reduce-overhead"`): the first call captures
    the plan's array code (`backend.capture_graph`) on static copies of the arguments and of the
    `.grad` arrays it reads; each later call copies the new ones in, launches the graph and reads
    the results from its static buffers (returned tensors are copies; a `.grad` it sets is the
    graph's static buffer, rewritten by the next launch, as with torch's CUDA graphs). Where a
    graph cannot be made (the backend has none, the capture fails, the step draws random numbers
    or makes host-side checks) or a parameter's array is not the captured one, the plain replay
    runs; `why` says why."""

    def __init__(self, plain, head, body, tail, be, why, copy_in=()):
        self.plain, self.head, self.body, self.tail, self.be = plain, head, body, tail, be
        self.why = why
        self.copy_in = copy_in
        self.launch = None
        self.static = None
        self.outs = None
        self.source = getattr(plain, "source", "")
        self.launches = 0

    def __call__(self, tensors):
        if self.why is not None:
            return self.plain(tensors)
        ext = self.head(tensors)
        if ext is _MISS:
            return _MISS
        if self.launch is None:
            if not self._capture(ext):
                return self.plain(tensors)
        else:
            st = self.static
            for j in self.copy_in:
                st[j][...] = ext[j]
            for j, a in enumerate(ext):
                if a is not st[j] and j not in self.copy_in:
                    return self.plain(tensors)          # a parameter's array was replaced
        self.launch()
        self.launches += 1
        return self.tail(tensors, self.static, self.outs)

    def _capture(self, ext):
        be = self.be
        static = list(ext)
        for j in self.copy_in:
            static[j] = be.asarray(ext[j], copy=True)
        try:
            self.launch, self.outs = be.capture_graph(self.body, static)
        except NotImplementedError as e:
            self.why = str(e)
            return False
        except Exception as e:  # noqa: BLE001 - the capture failed: the plain replay serves
            self.why = f"the capture failed: {type(e).__name__}: {e}"
            return False
        self.static = static
        return True


compile_builtin = compile  # noqa: A001 - the builtin, before this module's `compile` shadows it


# -----------------------------------------------------------------------------------------------
# the compiled function

class CompileStats:
    """`step.stats`: traces, replays, eager calls, and why each trace after the first happened."""

    def __init__(self):
        self.traces = 0
        self.replays = 0
        self.eager_calls = 0
        self.retrace_reasons = []
        self.graph_break = None

    def __repr__(self):
        return (f"CompileStats(traces={self.traces}, replays={self.replays}, eager_calls={self.eager_calls}, "
                f"retrace_reasons={self.retrace_reasons!r}, graph_break={self.graph_break!r})")


class _Entry:
    __slots__ = ("plan", "desc", "ntraces", "leaves", "given_up")

    def __init__(self):
        self.plan = self.desc = None
        self.ntraces = 0
        self.leaves = []
        self.given_up = None


def _find_state(fn):
    """Modules and optimizers fn can reach (its closure, the globals it names, its `self`): their
    training flags and hyperparameters are guards."""
    seen = []
    cands = []
    f = getattr(fn, "__func__", fn)
    if hasattr(fn, "__self__"):
        cands.append(fn.__self__)
    code = getattr(f, "__code__", None)
    for cell in getattr(f, "__closure__", None) or ():
        try:
            cands.append(cell.cell_contents)
        except ValueError:
            pass
    if code is not None:
        g = getattr(f, "__globals__", {})
        for n in code.co_names:
            if n in g:
                cands.append(g[n])
    mods, opts, leaves = [], [], []
    for c in cands:
        for o in (c if isinstance(c, (list, tuple)) else (c,)):
            if id(o) in seen or isinstance(o, (types.ModuleType, type)):
                continue
            seen.append(id(o))
            if isinstance(o, Tensor):
                if o.requires_grad and o.grad_fn is None:
                    leaves.append(o)
            elif callable(getattr(o, "modules", None)) and hasattr(o, "training"):
                mods.extend(m for m in o.modules() if m not in mods)
            elif isinstance(getattr(o, "param_groups", None), list):
                opts.append(o)
            elif hasattr(o, "__dict__") and not callable(o):
                # a plain object holding modules/optimizers (e.g. a trainer): one level down
                for v in vars(o).values():
                    if callable(getattr(v, "modules", None)) and hasattr(v, "training"):
                        mods.extend(m for m in v.modules() if m not in mods)
                    elif isinstance(getattr(v, "param_groups", None), list):
                        opts.append(v)
    return mods, opts, leaves


def _hyper(opts):
    """The optimizers' hyperparameters as one flat tuple (key, value, key, value, ...; a group
    boundary marked by None): built on every call, so it makes one container, not one per entry
    (a dozen small tuples per call measurably trigger the cyclic garbage collector)."""
    out = []
    for o in opts:
        for g in o.param_groups:
            for k, v in g.items():
                if k != "params":
                    out.append(k)
                    out.append(v if type(v) in _PLAIN else _hashable(v))
            out.append(None)
    return tuple(out)


_PLAIN = frozenset((float, int, bool, str, type(None)))


def _hyper_items(h):
    """_hyper's flat tuple as (group index, key, value) entries."""
    out, g, i = [], 0, 0
    while i < len(h):
        if h[i] is None:
            g += 1
            i += 1
            continue
        out.append((g, h[i], h[i + 1]))
        i += 2
    return out


def _hashable(v):
    if isinstance(v, Tensor):          # a tensor hyperparameter (lr): the trace read its value
        if v.numel() != 1:
            return ("id", id(v))
        return ("tensor", id(v), v.dtype, v._backend.to_numpy(v._data).reshape(()).item())
    try:
        hash(v)
        return v
    except TypeError:
        return ("id", id(v))


class CompiledFunction:
    """What `autograd.compile(fn)` returns: call it as fn. See the module docstring."""

    def __init__(self, fn, fullgraph=False, dynamic=False, max_plans=_MAX_PLANS, cuda_graphs=False):
        self.fn = fn
        self.cuda_graphs = cuda_graphs
        self.fullgraph = fullgraph
        self.dynamic = dynamic
        self.max_plans = max_plans
        self.stats = CompileStats()
        self._entries = {}
        self._hyper_cache = None
        self._last_key = None
        self._broken = None
        self._mods, self._opts, leaves = _find_state(fn)
        # the leaves whose .grad the step may set: the parameters of what fn reaches, until a trace
        # tells (so that the first trace already knows each leaf's .grad at its start)
        self._leaves = list({id(p): p for o in self._opts for g in o.param_groups for p in g["params"]}.values())
        if not self._leaves:
            self._leaves = list({id(p): p for m in self._mods for p in m.parameters(recurse=False)}.values())
        self._leaves += [p for p in leaves if all(p is not q for q in self._leaves)]
        for a in ("__name__", "__qualname__", "__doc__", "__module__"):
            try:
                setattr(self, a, getattr(fn, a))
            except (AttributeError, TypeError):
                pass

    def _key(self, args, kwargs):
        tensors = []
        parts = []
        for a in args:                    # the common case inline: tensors and Python numbers
            ta = type(a)
            if ta is Tensor:
                d = a._data
                tensors.append(a)
                parts.append((d.shape, d.dtype, a._backend, a._rg))
            elif ta is float or ta is int or ta is bool:
                parts.append((ta, a))     # 1, 1.0 and True hash alike but promote differently
            else:
                _flatten(a, tensors, parts)
        if kwargs:
            _flatten(kwargs, tensors, parts)
        key = (grad_enabled(), tuple(parts), tuple([m.training for m in self._mods]),
               self._hyper() if self._opts else ())
        return tensors, key

    def _hyper(self):
        """_hyper(self._opts), rebuilt only when some group's values are not those of the last
        call (a C-level snapshot compared by identity first); always with a tensor value (lr),
        whose value can change in place."""
        snap = tuple([tuple(g.values()) for o in self._opts for g in o.param_groups])
        c = self._hyper_cache
        if c is not None and c[0] == snap:
            return c[1]
        h = _hyper(self._opts)
        tensor = any(isinstance(v, Tensor) for vals in snap for v in vals)
        self._hyper_cache = None if tensor else (snap, h)
        return h

    def __call__(self, *args, **kwargs):
        if self._broken is not None or _core.TRACER is not None:
            self.stats.eager_calls += 1
            return self.fn(*args, **kwargs)
        tensors, key = self._key(args, kwargs)
        try:
            entry = self._entries.get(key)
        except TypeError:                # an unhashable argument that slipped through
            self.stats.eager_calls += 1
            return self.fn(*args, **kwargs)
        reason = None
        if entry is not None:
            if entry.plan is not None:
                r = entry.plan(tensors)
                if r is not _MISS and r is not _MISS_CHECK:
                    self.stats.replays += 1
                    return r
                entry.plan = None
                entry.desc = None
                reason = ("a data-dependent check in the step came out differently (e.g. a target equal to "
                          "ignore_index, a non-finite value)" if r is _MISS_CHECK else
                          "state changed (a parameter's .grad, a replaced parameter, or a state tensor's "
                          "shape/dtype)")
            if entry.given_up:
                self.stats.eager_calls += 1
                return self.fn(*args, **kwargs)
        else:
            entry = self._entries[key] = _Entry()
            if len(self._entries) > self.max_plans:
                self._entries.pop(next(iter(self._entries)))
            if self._last_key is not None:
                reason = _why(self._last_key, key, self._mods)
        if reason is not None:
            self.stats.retrace_reasons.append(reason)
        self._last_key = key
        return self._trace(entry, tensors, args, kwargs)

    def _trace(self, entry, tensors, args, kwargs):
        tr = _Tracer(self.fullgraph, self._leaves)
        tr.mods = self._mods
        for i, t in enumerate(tensors):
            if id(t._data) not in tr.refs:
                tr._bind(("arg", i), t._data)
        self.stats.traces += 1
        entry.ntraces += 1
        prof_prev = _graph.PROFILER
        prof = _graph.PROFILER = _TraceProfile(prof_prev)
        with _lock:
            install(tr)
            try:
                out = self.fn(*args, **kwargs)
            finally:
                uninstall(tr)
                _graph.PROFILER = prof_prev
        tr.mem_events = tuple((e.delta, e.op, e.kind) for e in prof.timeline)
        if tr.broken is not None:
            self._broken = self.stats.graph_break = tr.broken
            warnings.warn(f"autograd.compile: graph break: {tr.broken}; this call finished eagerly and later "
                          f"calls of {getattr(self.fn, '__qualname__', self.fn)} run eagerly", stacklevel=3)
            return out
        known = {id(p) for p in self._leaves}      # in a stable order, so that traces compare equal
        self._leaves += [p for k, p in tr.leaves.items() if k not in known]
        d = _finish(tr, out)
        if isinstance(d, (str, _Unsupported)) or tr.unstable:
            # not replayable as traced; maybe this call only (a batch that took another branch):
            # trace again next time, and give up after a few
            entry.desc = None
            if isinstance(d, _Unsupported) or isinstance(d, str) and entry.ntraces >= _MAX_TRACES_PER_KEY:
                self._give_up(entry, str(d))
            return out
        diff = "no earlier trace" if entry.desc is None else _same(entry.desc, d)
        if diff is None:
            try:
                entry.plan = _codegen(d, True if self.cuda_graphs else None)
            except _Unsupported as e:
                self._give_up(entry, str(e))
            entry.desc = None
        else:
            entry.desc = d
            if entry.ntraces >= _MAX_TRACES_PER_KEY:
                self._give_up(entry, f"{entry.ntraces} traces under the same guards recorded different plans "
                                     f"(a value the step reads changes on every call; last: {diff})")
        return out

    def _give_up(self, entry, why):
        entry.given_up = why
        self.stats.retrace_reasons.append(f"runs eagerly: {why}")
        warnings.warn(f"autograd.compile: {why}; {getattr(self.fn, '__qualname__', self.fn)} runs eagerly "
                      f"under these guards", stacklevel=4)

    def graph_status(self):
        """Under mode="reduce-overhead": for each plan, "captured" (it replays through a device
        graph), "not captured yet", or why it replays without one (e.g. the backend has no
        device graphs, the capture failed). Empty without device graphs."""
        out = []
        for e in self._entries.values():
            p = e.plan
            if isinstance(p, _GraphPlan):
                out.append(p.why if p.why is not None else "captured" if p.launch is not None else
                           "not captured yet")
        return out

    def replay_source(self):
        """The generated replay code of each plan (for debugging)."""
        return [e.plan.source for e in self._entries.values() if e.plan is not None]


def _flatten(x, tensors, parts):
    tx = type(x)
    if isinstance(x, Tensor):
        d = x._data
        tensors.append(x)
        parts.append((d.shape, d.dtype, x._backend, x._rg))
    elif tx is tuple or tx is list:
        parts.append((tx, len(x)))
        for v in x:
            _flatten(v, tensors, parts)
    elif tx is dict:
        for k, v in x.items():
            parts.append(k)
            _flatten(v, tensors, parts)
    else:
        parts.append((tx, _hashable(x)))


def _why(old, new, mods):
    if old[0] != new[0]:
        return f"grad mode changed ({old[0]} -> {new[0]})"
    if old[2] != new[2]:
        names = [type(m).__name__ for m, a, b in zip(mods, old[2], new[2]) if a != b]
        return f"module.training changed ({', '.join(names[:3])})"
    if old[3] != new[3]:
        ia, ib = _hyper_items(old[3]), _hyper_items(new[3])
        diffs = [f"{ka} {va!r} -> {vb!r}" for (ga, ka, va), (gb, kb, vb) in zip(ia, ib)
                 if (ga, ka) == (gb, kb) and va != vb]
        if len(ia) != len(ib) or not diffs:
            diffs = [f"{len(ia)} -> {len(ib)} entries"]
        return f"optimizer hyperparameters changed ({', '.join(diffs)})"
    po, pn = old[1], new[1]
    if len(po) != len(pn):
        return "the arguments' structure changed"
    for i, (a, b) in enumerate(zip(po, pn)):
        if a != b:
            if type(a) is tuple and len(a) == 4 and type(b) is tuple and len(b) == 4:
                what = ["shape", "dtype", "device", "requires_grad"]
                diffs = [f"{w} {x} -> {y}" for w, x, y in zip(what, a, b) if x != y]
                return f"a tensor argument changed: {', '.join(diffs)}"
            a, b = (a[1], b[1]) if type(a) is tuple and type(b) is tuple and len(a) == len(b) == 2 else (a, b)
            return f"an argument changed ({a!r} -> {b!r})"
    return "guards changed"


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,  # noqa: A001
            disable=False):
    """torch.compile's spelling. Returns a `CompiledFunction` wrapping `model` (a training-step
    function, or any callable; a Module is compiled through its `__call__`). `backend` is accepted
    and ignored (there is one strategy: record and replay); `mode="reduce-overhead"` (or
    "max-autotune", or `options={"triton.cudagraphs": True}`, torch's spellings) replays each plan
    through a CUDA graph where the backend has them (CuPy; `step.graph_status()` says whether it
    did, and why not), other modes and options change nothing; `dynamic` is
    accepted and ignored (a plan is specialised to its input shapes, traced once per shape);
    `disable=True` returns `model` itself. Used as `@autograd.compile` or
    `@autograd.compile(fullgraph=True)` too."""
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, disable=disable)
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"compile: options must be a dict, got {type(options).__name__}")
    graphs = bool(options.get("triton.cudagraphs", False)) if options is not None else _MODES.get(mode, False)
    if disable:
        return model
    if not callable(model):
        raise TypeError(f"compile: expected a callable, got {type(model).__name__}")
    return CompiledFunction(model, fullgraph=fullgraph, dynamic=bool(dynamic), cuda_graphs=graphs)


#: torch.compile's modes, and whether each turns device (CUDA) graphs on
_MODES = {"default": False, "lite": False, "reduce-overhead": True, "max-autotune-no-cudagraphs": False,
          "max-autotune": True}
