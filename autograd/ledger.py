"""The saved-memory ledger: what a recorded graph keeps alive for backward, and where it came from.

`tape_report(output)` walks the graph behind `output` and lists, per node, the op, the user
line that created it, its output's shape and dtype, and the bytes of the arrays it saved.
An array saved by several nodes (relu's output is also the next matmul's input) is one
allocation, so totals count each buffer once: by array identity, and by the array owning the
memory where the backend can trace a view to it (`Backend.storage`). `profile_memory()`
follows the same deduplicated total over time, as nodes are recorded and as backward frees them.
Everything goes through backend methods, so the numbers mean the same on every backend.
Not counted: tensors a custom Function's forward stores as plain ctx attributes (only
`save_for_backward` is seen), and a saved view counts its whole buffer, which it keeps alive.
"""
from __future__ import annotations

import time
import weakref
from collections import namedtuple

from . import graph as _graph

Row = namedtuple("Row", "seq op source shape dtype saved_bytes new_bytes n_saved freed")
Row.__doc__ = """One node: `saved_bytes` is everything it holds for backward; `new_bytes` only the
buffers not already held by an earlier node (so the rows' new_bytes add up to the total)."""
Event = namedtuple("Event", "time live_bytes delta op kind")


def _arrays(node):
    """(backend, array) for every array node keeps for backward: saved tensors, its own saved
    output, what its forward stashed for the rule (cross-entropy's exp(x - max) and row sums), and
    arrays among its parameters (index arrays of getitem, say)."""
    out = []
    saved = node.saved
    if saved:
        for item in saved:
            if item is None:
                continue
            if type(item) is tuple:              # the node's own output: (array, vc, backend, idx)
                out.append((item[2], item[0]))
            else:
                out.append((item._backend, item._data))
    extra = getattr(node, "extra", None)       # arrays a forward stashed for its rule (graph.stash)
    if extra:
        for a in extra:
            be = _backend_of(a) if not isinstance(a, (int, float, bool)) else None
            if be is not None:
                out.append((be, a))
    if node.params:
        stack = list(node.params)
        while stack:
            p = stack.pop()
            if type(p) in (tuple, list):
                stack.extend(p)
            elif p is not None and not isinstance(p, (int, float, str, bool, slice)):
                be = _backend_of(p)
                if be is not None:
                    out.append((be, p))
    return out


def _backend_of(obj):
    import backends
    for be in list(backends._registry.values()):
        if be.is_array(obj):
            return be
    return None


def _buffers(node):
    """[(key, nbytes)] of the distinct buffers node keeps, in saving order."""
    seen = {}
    for be, arr in _arrays(node):
        base = be.storage(arr)
        k = id(base)
        if k not in seen:
            seen[k] = be.nbytes(base)
    return list(seen.items())


def _roots(outputs):
    from .tensor import Tensor
    if isinstance(outputs, Tensor):
        outputs = (outputs,)
    return [t.grad_fn for t in outputs if t.grad_fn is not None]


def graph_nodes(outputs):
    """Every node reachable from outputs, in creation (seq) order; iterative, no recursion."""
    seen = {}
    stack = _roots(outputs)
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen[id(n)] = n
        for e in n.next:
            if type(e) is tuple and id(e[0]) not in seen:
                stack.append(e[0])
    return sorted(seen.values(), key=lambda n: n.seq)


def _dtype_name(native, be):
    if be is not None:
        try:
            return be.dtype_from_native(native).name
        except (TypeError, KeyError):
            pass
    return str(native)


def _human(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


class TapeReport:
    """Rows per node (`.rows`), bytes per op type (`.by_op`), the deduplicated `.total_bytes`."""

    def __init__(self, rows):
        self.rows = rows
        self.total_bytes = sum(r.new_bytes for r in rows)
        by_op = {}
        for r in rows:
            by_op[r.op] = by_op.get(r.op, 0) + r.new_bytes
        self.by_op = dict(sorted(by_op.items(), key=lambda kv: (-kv[1], kv[0])))

    def table(self):
        def src(r):
            if r.source is None:
                return "?"         # recorded without autograd.record_source() / profile_memory()
            f, line = r.source
            return f"{f.rsplit('/', 1)[-1]}:{line}"
        head = ("seq", "op", "created at", "shape", "dtype", "saved", "new")
        body = [(str(r.seq), r.op, src(r), str(tuple(r.shape)), r.dtype,
                 "freed" if r.freed else str(r.saved_bytes), str(r.new_bytes)) for r in self.rows]
        widths = [max(len(x) for x in col) for col in zip(head, *body)]
        line = lambda cells: "  ".join(c.ljust(w) if i < 5 else c.rjust(w)  # noqa: E731
                                       for i, (c, w) in enumerate(zip(cells, widths)))
        out = [line(head), "  ".join("-" * w for w in widths)]
        out += [line(b) for b in body]
        out.append("")
        out.append(f"total saved for backward: {self.total_bytes} bytes ({_human(self.total_bytes)}) "
                   f"in {len(self.rows)} nodes")
        for op, b in self.by_op.items():
            out.append(f"  {op:<16} {b:>12}")
        return "\n".join(out)

    __str__ = table

    def __repr__(self):
        return f"<TapeReport {len(self.rows)} nodes, {self.total_bytes} bytes saved>"


def tape_report(outputs):
    """The memory ledger of the graph behind `outputs` (a Tensor or several)."""
    from .tensor import Tensor
    first = outputs if isinstance(outputs, Tensor) else next(iter(outputs), None)
    be = first._backend if first is not None else None
    rows, held = [], set()
    for n in graph_nodes(outputs):
        bufs = _buffers(n)
        new = 0
        for k, nb in bufs:
            if k not in held:
                held.add(k)
                new += nb
        shape, native = n.out_meta[0] if n.out_meta else ((), None)
        rows.append(Row(n.seq, n.name, n.source, tuple(shape), _dtype_name(native, be),
                        sum(nb for _, nb in bufs), new, len(bufs), n.saved is None))
    return TapeReport(rows)


class profile_memory:
    """Follow the live, deduplicated total of bytes saved for backward while inside the block.

    `.current`, `.peak` (bytes), `.timeline` (Events: seconds since entry, live bytes after it,
    change, op, "save" / "free" / "collect"). A node's bytes leave the total when backward frees
    them, or when the node itself is garbage collected (a graph dropped without backward).
    Process-wide, not per thread; nests (an inner profiler shadows the outer one)."""

    def __init__(self):
        self.current = 0
        self.peak = 0
        self.timeline = []
        self._refs = {}        # buffer key -> [holders, nbytes]
        self._held = {}        # id(node) -> (keys, weakref to node)
        self._active = False

    def __enter__(self):
        self._prev = _graph.PROFILER
        _graph.PROFILER = self
        self._t0 = time.perf_counter()
        self._active = True
        return self

    def __exit__(self, *exc):
        _graph.PROFILER = self._prev
        self._active = False
        return False

    # --- called by the tape --------------------------------------------------------
    def saved(self, node):
        bufs = _buffers(node)
        if not bufs:
            return
        delta = 0
        for k, nb in bufs:
            ent = self._refs.get(k)
            if ent is None:
                self._refs[k] = [1, nb]
                delta += nb
            else:
                ent[0] += 1
        nid = id(node)
        self._held[nid] = ([k for k, _ in bufs], weakref.ref(node, lambda _r, nid=nid, op=node.name:
                                                                self._release(nid, op, "collect")))
        self._event(delta, node.name, "save")

    def freed(self, node):
        self._release(id(node), node.name, "free")

    def _release(self, nid, op, kind):
        ent = self._held.pop(nid, None)
        if ent is None:
            return
        delta = 0
        for k in ent[0]:
            r = self._refs[k]
            r[0] -= 1
            if r[0] == 0:
                del self._refs[k]
                delta -= r[1]
        self._event(delta, op, kind)

    def _event(self, delta, op, kind):
        self.current += delta
        if self.current > self.peak:
            self.peak = self.current
        if self._active:
            self.timeline.append(Event(time.perf_counter() - self._t0, self.current, delta, op, kind))

    def __repr__(self):
        return f"<profile_memory current={self.current} peak={self.peak} events={len(self.timeline)}>"
