"""einsum: Einstein summation as a sequence of pairwise contractions, each one matmul.

The equation is parsed as torch parses it (letters a-z A-Z, `...`, spaces, an optional `->`; the
implicit output is the letters seen once, in torch's order: A-Z before a-z, ellipsis dims first).
Each operand is first reduced on its own: a letter repeated within it takes the diagonal, a
letter no other operand and not the output needs is summed out. The operands are then contracted
two at a time in the order opt_einsum's greedy strategy picks (`greedy_path`, a port: Hadamard
products first, then the pair sharing a letter whose result removes the most elements, outer
products of the smallest last), each pair through one
batched matmul (batch letters, then the contracted ones flattened), never through a broadcast of
every letter at once. The gradient is that of these composites (matmul, reshape, permute, sum,
diagonal selection), so einsum needs no rule and differentiates twice.
"""
from __future__ import annotations

import math
import numbers

from backends import dtypes as _dt
from ..tensor import Tensor
from ._registry import op
from .linalg import Matmul
from ._core import apply

_ELL = "..."


def _label_index(c):
    # torch numbers labels A-Z as 0-25 and a-z as 26-51: the implicit output is sorted that way
    return ord(c) - ord("A") if c.isupper() else 26 + ord(c) - ord("a")


def _parse(equation, n_ops):
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    pos = 0
    for t in terms:
        i = 0
        while i < len(t):
            c = t[i]
            if t.startswith(_ELL, i):
                i += 3
                continue
            if c == "." or not (c.isascii() and c.isalpha()):
                if c == ".":
                    raise RuntimeError("einsum(): found '.' for operand that is not part of any ellipsis")
                raise RuntimeError(f"einsum(): invalid subscript given at index {pos + i} in the equation string, "
                                   f"subscripts must be in [a-zA-Z]")
            i += 1
        pos += len(t) + 1
    if len(terms) > n_ops:
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < n_ops:
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    for t in terms + ([rhs] if arrow else []):
        if t.count(_ELL) > 1 or t.replace(_ELL, "").count("."):
            raise RuntimeError("einsum(): found more than one ellipsis ('...') in an operand's subscripts")
    return terms, (rhs if arrow else None)


def _split(term):
    """'ab...c' -> ['a', 'b', '...', 'c']"""
    out, i = [], 0
    while i < len(term):
        if term.startswith(_ELL, i):
            out.append(_ELL)
            i += 3
        else:
            out.append(term[i])
            i += 1
    return out


def _diagonal(x, labels):
    """Take the diagonal over every repeated label (x's dims labelled by `labels`)."""
    from ..factories import arange
    while True:
        seen = {}
        rep = None
        for i, l in enumerate(labels):
            if l in seen:
                rep = (seen[l], i)
                break
            seen[l] = i
        if rep is None:
            return x, labels
        i, j = rep
        if x.shape[i] != x.shape[j]:
            raise RuntimeError(f"einsum(): subscript {labels[i]} is repeated for operand but the sizes don't match, "
                               f"{x.shape[i]} != {x.shape[j]}")
        rest = [d for d in range(x.ndim) if d not in (i, j)]
        x = x.permute(*rest, i, j)
        idx = arange(x.shape[-1], device=x.device)
        x = x[(Ellipsis, idx, idx)]
        labels = [labels[d] for d in rest] + [labels[i]]


def _sum_out(x, labels, keep):
    drop = [i for i, l in enumerate(labels) if l not in keep]
    if drop:
        x = x.sum(tuple(drop))
        labels = [l for l in labels if l in keep]
    return x, labels


def _contract_pair(a, la, b, lb, keep):
    """Contract two labelled operands, keeping the labels in `keep`: one batched matmul."""
    shared = [l for l in la if l in lb]
    # a contracted label of size 1 in one operand and n in the other: sum the other first
    for l in list(shared):
        if l in keep:
            continue
        sa, sb = a.shape[la.index(l)], b.shape[lb.index(l)]
        if sa != sb:
            if sa == 1:
                a, la = a.squeeze(la.index(l)), [x for x in la if x != l]
                b, lb = _sum_out(b, lb, set(lb) - {l})
            else:
                b, lb = b.squeeze(lb.index(l)), [x for x in lb if x != l]
                a, la = _sum_out(a, la, set(la) - {l})
            shared.remove(l)
    batch = [l for l in shared if l in keep]
    con = [l for l in shared if l not in keep]
    fa = [l for l in la if l not in shared]
    fb = [l for l in lb if l not in shared]
    sa = {l: a.shape[i] for i, l in enumerate(la)}
    sb = {l: b.shape[i] for i, l in enumerate(lb)}
    a2 = a.permute(*[la.index(l) for l in batch + fa + con])
    b2 = b.permute(*[lb.index(l) for l in batch + con + fb])
    bsa = tuple(sa[l] for l in batch)
    bsb = tuple(sb[l] for l in batch)
    k = math.prod(sa[l] for l in con)
    a2 = a2.reshape(bsa + (math.prod(sa[l] for l in fa), k))
    b2 = b2.reshape(bsb + (k, math.prod(sb[l] for l in fb)))
    r = apply(Matmul, (a2, b2))
    bs = tuple(max(x, y) for x, y in zip(bsa, bsb))
    r = r.reshape(bs + tuple(sa[l] for l in fa) + tuple(sb[l] for l in fb))
    return r, batch + fa + fb


def greedy_path(inputs, output, sizes):
    """opt_einsum's greedy path (its default 'greedy' optimizer, ported): a list of position pairs,
    each contracting two operands of the current list into one appended at its end.

    `inputs`: each operand's labels; `output`: the output's labels; `sizes`: label -> size.
    1. Operands with the same set of labels are multiplied first (Hadamard products).
    2. Among pairs sharing a contractible label, the one with the least size(result) - size(a) -
       size(b) goes first (a heap; ties to the pair of older operands); the result keeps a label
       only while the output or another operand still needs it.
    3. What is left is joined by outer products, the smallest results first.
    A label every operand has counts as an output label (it can only go at the last step)."""
    import heapq
    import itertools
    n = len(inputs)
    if n < 2:
        return []
    keys = [frozenset(k) for k in inputs]
    out = frozenset(output) | frozenset.intersection(*keys)
    ids = itertools.count(n)
    ssa = []                                    # contractions, by static ids (inputs 0..n-1, results after)
    live = {}                                   # label set -> id of the operand holding it
    for i, k in enumerate(keys):
        if k in live:
            ssa.append((live[k], i))
            live[k] = next(ids)
        else:
            live[k] = i
    users = {}                                  # contractible label -> label sets using it
    for k in live:
        for d in k - out:
            users.setdefault(d, set()).add(k)

    def size(k):
        return math.prod(sizes[d] for d in k)

    def shared_by(c):
        return {d for d, ks in users.items() if len(ks) >= c}
    ref2, ref3 = shared_by(2), shared_by(3)
    foot = {k: size(k) for k in live}

    def candidate(k1, k2):
        either, two = k1 | k2, k1 & k2
        k12 = (either & out) | (two & ref3) | ((either - two) & ref2)
        cost = size(k12) - foot[k1] - foot[k2]
        i1, i2 = live[k1], live[k2]
        if i1 > i2:
            k1, k2, i1, i2 = k2, k1, i2, i1
        return (cost, i2, i1), k1, k2, k12

    queue = []

    def push(k1, k2s):
        heapq.heappush(queue, min(candidate(k1, k2) for k2 in k2s))
    for d, ks in users.items():
        ordered = sorted(ks, key=live.__getitem__)
        for a in range(len(ordered) - 1):
            push(ordered[a], ordered[a + 1:])
    while queue:
        _, k1, k2, k12 = heapq.heappop(queue)
        if k1 not in live or k2 not in live:
            continue                             # one of them was contracted already
        i1, i2 = live.pop(k1), live.pop(k2)
        for d in k1 - out:
            users[d].discard(k1)
        for d in k2 - out:
            users[d].discard(k2)
        ssa.append((i1, i2))
        if k12 in live:                          # the result repeats a live label set: multiply them
            ssa.append((live[k12], next(ids)))
        else:
            for d in k12 - out:
                users.setdefault(d, set()).add(k12)
        live[k12] = next(ids)
        for d in k1 | (k2 - out):                # (the label sets whose use counts changed, as opt_einsum)
            c = len(users.get(d, ()))
            (ref2.add if c >= 2 else ref2.discard)(d)
            (ref3.add if c >= 3 else ref3.discard)(d)
        foot[k12] = size(k12)
        k2s = {k for d in k12 for k in users.get(d, ())} - {k12}
        if k2s:
            push(k12, list(k2s))
    final = [(size(k & out), i, k) for k, i in live.items()]
    heapq.heapify(final)
    _, i1, k1 = heapq.heappop(final)
    while final:
        _, i2, k2 = heapq.heappop(final)
        ssa.append((min(i1, i2), max(i1, i2)))
        k12 = (k1 | k2) & out
        _, i1, k1 = heapq.heappushpop(final, (size(k12), next(ids), k12))
    # static ids -> positions in the shrinking list (results appended at its end)
    order = list(range(n))
    nxt = n
    path = []
    for a, b in ssa:
        path.append(tuple(sorted((order.index(a), order.index(b)))))
        order = [x for x in order if x not in (a, b)] + [nxt]
        nxt += 1
    return path


def _sublist(args):
    """torch's sublist form einsum(op1, [0, 1], op2, [1, 2], [0, 2]) as an equation and operands."""
    ops, subs = list(args[0::2]), list(args[1::2])
    out = None
    if len(args) % 2 == 1:                 # a trailing output sublist
        out = args[-1]
        ops, subs = list(args[0:-1:2]), list(args[1:-1:2])

    def letters(sub):
        s = ""
        for v in sub:
            if v is Ellipsis:
                s += _ELL
            elif isinstance(v, numbers.Integral) and 0 <= v < 52:
                s += chr(ord("A") + v) if v < 26 else chr(ord("a") + v - 26)
            else:
                raise RuntimeError(f"einsum(): expected subscript to be within the range [0, 52), but got {v}")
        return s
    eq = ",".join(letters(s) for s in subs)
    if out is not None:
        eq += "->" + letters(out)
    return eq, ops


@op(method=False)
def einsum(*args):
    """einsum(equation, *operands), einsum(equation, [operands]) or torch's sublist form."""
    if not args:
        raise TypeError("einsum(): must specify the equation string and at least one operand, or at least one "
                        "operand and its subscripts list")
    if isinstance(args[0], str):
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    else:
        equation, operands = _sublist(args)
    operands = list(operands)
    for t in operands:
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): operands must be Tensors, got {type(t).__name__}")
    terms, rhs = _parse(equation, len(operands))
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    dt = operands[0].dtype
    for t in operands[1:]:
        if t.dtype is not dt:
            raise RuntimeError(f"einsum(): expected scalar type {dt.name} but found {t.dtype.name} (all operands "
                               f"must have one dtype)")
    if dt is _dt.bool_:
        raise RuntimeError("einsum(): not implemented for 'Bool'")

    # labels per operand, ellipsis dims as labels ('.0', '.1', ... aligned right)
    n_ell = 0
    labelled = []
    counts = {}
    for k, (t, term) in enumerate(zip(operands, terms)):
        parts = _split(term)
        named = [p for p in parts if p != _ELL]
        if _ELL in parts:
            e = t.ndim - len(named)
            if e < 0:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(named)}) is more than "
                                   f"the number of dimensions ({t.ndim}) for operand {k}")
            n_ell = max(n_ell, e)
            at = parts.index(_ELL)
            labels = named[:at] + [f".{i}" for i in range(-e, 0)] + named[at:]
        else:
            if len(named) != t.ndim:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(named)}) does not "
                                   f"match the number of dimensions ({t.ndim}) for operand {k} and no ellipsis "
                                   f"was given")
            labels = named
        labelled.append(labels)
        for l in named:
            counts[l] = counts.get(l, 0) + 1
    ell = [f".{i}" for i in range(-n_ell, 0)]
    if rhs is None:
        out = ell + sorted((l for l, c in counts.items() if c == 1), key=_label_index)
    else:
        parts = _split(rhs)
        for c in parts:
            if c != _ELL and not (c.isascii() and c.isalpha()):
                raise RuntimeError(f"einsum(): invalid subscript given at index {equation.index('->') + 2} in the "
                                   f"equation string, subscripts must be in [a-zA-Z]")
        named = [p for p in parts if p != _ELL]
        for l in named:
            if named.count(l) > 1:
                raise RuntimeError(f"einsum(): output subscript {l} appears more than once in the output")
            if l not in counts:
                raise RuntimeError(f"einsum(): output subscript {l} does not appear in the equation for any input "
                                   f"operand")
        out = []
        for p in parts:
            out += ell if p == _ELL else [p]

    # sizes: a label's sizes must agree or be 1 (broadcast)
    size = {}
    for k, (t, labels) in enumerate(zip(operands, labelled)):
        for l, s in zip(labels, t.shape):
            prev = size.get(l)
            if prev is None or prev == 1:
                size[l] = s
            elif s != 1 and s != prev:
                if l.startswith("."):
                    raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes (original->remapped): "
                                       f"{', '.join(str(tuple(o.shape)) for o in operands)}")
                raise RuntimeError(f"einsum(): subscript {l} has size {s} for operand {k} which does not broadcast "
                                   f"with previously seen size {prev}")

    # each operand alone: diagonals, then letters nobody else needs
    ops = []
    for k, (t, labels) in enumerate(zip(operands, labelled)):
        x, labels = _diagonal(t, list(labels))
        need = set(out)
        for j, lj in enumerate(labelled):
            if j != k:
                need.update(lj)
        x, labels = _sum_out(x, labels, need)
        ops.append((x, labels))

    # the contraction order: opt_einsum's greedy path, planned on the operands' full label sets
    for i, j in greedy_path([set(lb) for lb in labelled], out, size):
        (a, la), (b, lb) = ops[i], ops[j]
        rest = [ops[k] for k in range(len(ops)) if k not in (i, j)]
        keep = set(out)
        for _, lk in rest:
            keep.update(lk)
        a, la = _sum_out(a, la, keep | set(lb))
        b, lb = _sum_out(b, lb, keep | set(la))
        r = _contract_pair(a, la, b, lb, keep)
        ops = rest + [r]

    x, labels = ops[0]
    x, labels = _sum_out(x, labels, set(out))
    x = x.permute(*[labels.index(l) for l in out]) if labels != out else x
    target = tuple(size[l] for l in out)
    if tuple(x.shape) != target:
        x = x.broadcast_to(target)
    if len(operands) == 1 and x is operands[0]:
        x = x.clone()
    return x
