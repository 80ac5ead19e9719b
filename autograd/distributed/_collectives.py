"""The collectives of `autograd.distributed`, with torch.distributed's signatures.

Each works in place on Tensors: a CPU tensor's contiguous NumPy buffer goes to MPI as it is (a
non-contiguous view, or another backend's array, is staged through a contiguous host copy and written
back with `copy_`); on a process group with backend "nccl", CuPy tensors go to NCCL on the device.
Every call is a non-blocking request: `async_op=True` returns its `Work`, otherwise it is waited on
here with the group's timeout. The written tensors' version counters are bumped, as any in-place op.
"""
from __future__ import annotations

import pickle

from backends import transport as host

from . import ReduceOp, Work, _group

_MPI_OPS = {ReduceOp.SUM: "SUM", ReduceOp.AVG: "SUM", ReduceOp.PRODUCT: "PROD", ReduceOp.MIN: "MIN",
            ReduceOp.MAX: "MAX", ReduceOp.BAND: "BAND", ReduceOp.BOR: "BOR", ReduceOp.BXOR: "BXOR"}
_BOOL_OPS = {ReduceOp.SUM: "LOR", ReduceOp.MAX: "LOR", ReduceOp.BOR: "LOR", ReduceOp.PRODUCT: "LAND",
             ReduceOp.MIN: "LAND", ReduceOp.BAND: "LAND", ReduceOp.BXOR: "LXOR", ReduceOp.AVG: "LOR"}


def _tensor(t, name, what="tensor"):
    from autograd.tensor import Tensor
    if not isinstance(t, Tensor):
        raise TypeError(f"distributed.{name}: {what} must be a Tensor, got {type(t).__name__}")
    return t


class _Buf:
    """A contiguous host array for a tensor, and how to write it back."""
    __slots__ = ("t", "arr", "staged")

    def __init__(self, t, name):
        self.t = t
        self.arr, aliased = host.buffer(t._backend, t._data)   # MPI reads and writes the tensor's memory
        self.staged = not aliased                                # or a host copy written back by done()

    def done(self):
        """Make the tensor hold the buffer's values (a no-op when MPI wrote the tensor's own memory)."""
        t = self.t
        if self.staged:
            import autograd
            with autograd.no_grad():
                t.copy_(autograd.tensor(self.arr, device=t.device))
        else:
            t._vc[0] += 1


def _reduce_op(op, name):
    if isinstance(op, ReduceOp):
        return op
    try:
        return ReduceOp[str(op).split(".")[-1].upper()]
    except KeyError:
        raise ValueError(f"distributed.{name}: unknown reduce op {op!r}; use autograd.distributed.ReduceOp") from None


def _op(op, arr, name):
    """The MPI op for `op` on host array `arr` (bool reductions are logical), and the ReduceOp."""
    from mpi4py import MPI
    op = _reduce_op(op, name)
    if host.is_bool(arr):
        return getattr(MPI, _BOOL_OPS[op]), op
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and host.is_float(arr):
        raise RuntimeError(f"distributed.{name}: bitwise reduce op {op.name} needs an integer or bool tensor, got "
                           f"{arr.dtype.name}")
    return getattr(MPI, _MPI_OPS[op]), op


def _finish(g, work, async_op):
    if async_op:
        return work
    work.wait()
    return None


def _nccl(g, *tensors):
    return g._nccl is not None and all(t._backend.device_type == "cuda" for t in tensors)


def _nccl_work(g, name, event, written):
    """A Work for a collective queued on the GPU: waiting synchronizes its CUDA event."""
    def fin():
        event.synchronize()
        for t in written:
            t._vc[0] += 1
    return Work(g, name, [], fin)


# ------------------------------------------------------------------------------------------------

def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `tensor` across the group with `op`, leaving the result in `tensor` on every rank."""
    _tensor(tensor, "all_reduce")
    g = _group(group)
    if _nccl(g, tensor):
        ev = g._nccl.all_reduce(tensor._data, _reduce_op(op, "all_reduce").value)
        return _finish(g, _nccl_work(g, "all_reduce", ev, [tensor]), async_op)
    b = _Buf(tensor, "all_reduce")
    mop, op = _op(op, b.arr, "all_reduce")
    from mpi4py import MPI
    req = g.comm.Iallreduce(MPI.IN_PLACE, b.arr, op=mop)

    def fin():
        if op is ReduceOp.AVG:
            host.average_(b.arr, g.size)
        b.done()
    return _finish(g, Work(g, "all_reduce", [req], fin), async_op)


def broadcast(tensor, src, group=None, async_op=False, group_src=None):
    """Copy rank `src`'s `tensor` into `tensor` on every rank."""
    _tensor(tensor, "broadcast")
    g = _group(group)
    root = _root(g, src, group_src, "broadcast")
    if _nccl(g, tensor):
        return _finish(g, _nccl_work(g, "broadcast", g._nccl.broadcast(tensor._data, root), [tensor]), async_op)
    b = _Buf(tensor, "broadcast")
    req = g.comm.Ibcast(b.arr, root=root)
    return _finish(g, Work(g, "broadcast", [req], b.done), async_op)


def reduce(tensor, dst, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce `tensor` across the group into rank `dst`'s `tensor` (the others' are left as they were)."""
    _tensor(tensor, "reduce")
    g = _group(group)
    root = _root(g, dst, group_dst, "reduce")
    b = _Buf(tensor, "reduce")
    mop, op = _op(op, b.arr, "reduce")
    from mpi4py import MPI
    if g.rank == root:
        req = g.comm.Ireduce(MPI.IN_PLACE, b.arr, op=mop, root=root)
    else:
        req = g.comm.Ireduce(b.arr, None, op=mop, root=root)

    def fin():
        if g.rank == root:
            if op is ReduceOp.AVG:
                host.average_(b.arr, g.size)
            b.done()
    return _finish(g, Work(g, "reduce", [req], fin), async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Every rank's `tensor`, in rank order, into `tensor_list` (one tensor per rank, of tensor's shape)."""
    _tensor(tensor, "all_gather")
    g = _group(group)
    if not isinstance(tensor_list, list) or len(tensor_list) != g.size:
        raise ValueError(f"distributed.all_gather: tensor_list must be a list of {g.size} tensors (the world size), "
                         f"got {len(tensor_list) if isinstance(tensor_list, list) else type(tensor_list).__name__}")
    for i, t in enumerate(tensor_list):
        _tensor(t, "all_gather", f"tensor_list[{i}]")
        if tuple(t.shape) != tuple(tensor.shape) or t.dtype != tensor.dtype:
            raise ValueError(f"distributed.all_gather: tensor_list[{i}] is {t.dtype.name}{tuple(t.shape)}, the input "
                             f"is {tensor.dtype.name}{tuple(tensor.shape)}")
    src = _Buf(tensor, "all_gather").arr
    out = host.empty((g.size,) + src.shape, src)
    req = g.comm.Iallgather(src, out)

    def fin():
        import autograd
        with autograd.no_grad():
            for i, t in enumerate(tensor_list):
                t.copy_(autograd.tensor(out[i], device=t.device))
    return _finish(g, Work(g, "all_gather", [req], fin), async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Every rank's `input_tensor` concatenated along dim 0 (or stacked: output of shape (world, *input))."""
    _tensor(output_tensor, "all_gather_into_tensor", "output_tensor")
    _tensor(input_tensor, "all_gather_into_tensor", "input_tensor")
    g = _group(group)
    if output_tensor.numel() != input_tensor.numel() * g.size or output_tensor.dtype != input_tensor.dtype:
        raise ValueError(f"distributed.all_gather_into_tensor: output_tensor {output_tensor.dtype.name}"
                         f"{tuple(output_tensor.shape)} must hold world_size={g.size} times input_tensor "
                         f"{input_tensor.dtype.name}{tuple(input_tensor.shape)}")
    if _nccl(g, output_tensor, input_tensor):
        ev = g._nccl.all_gather(output_tensor._data, input_tensor._data)
        return _finish(g, _nccl_work(g, "all_gather_into_tensor", ev, [output_tensor]), async_op)
    src = _Buf(input_tensor, "all_gather_into_tensor").arr
    dst = _Buf(output_tensor, "all_gather_into_tensor")
    req = g.comm.Iallgather(src, dst.arr)
    return _finish(g, Work(g, "all_gather_into_tensor", [req], dst.done), async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `input` (world_size equal chunks along dim 0) across ranks; rank r gets chunk r in `output`."""
    _tensor(output, "reduce_scatter_tensor", "output")
    _tensor(input, "reduce_scatter_tensor", "input")
    g = _group(group)
    if input.numel() != output.numel() * g.size or output.dtype != input.dtype:
        raise ValueError(f"distributed.reduce_scatter_tensor: input {input.dtype.name}{tuple(input.shape)} must hold "
                         f"world_size={g.size} times output {output.dtype.name}{tuple(output.shape)}")
    if _nccl(g, output, input):
        ev = g._nccl.reduce_scatter(output._data, input._data, _reduce_op(op, "reduce_scatter_tensor").value)
        return _finish(g, _nccl_work(g, "reduce_scatter_tensor", ev, [output]), async_op)
    src = _Buf(input, "reduce_scatter_tensor").arr
    dst = _Buf(output, "reduce_scatter_tensor")
    mop, op = _op(op, src, "reduce_scatter_tensor")
    req = g.comm.Ireduce_scatter_block(src, dst.arr, op=mop)

    def fin():
        if op is ReduceOp.AVG:
            host.average_(dst.arr, g.size)
        dst.done()
    return _finish(g, Work(g, "reduce_scatter_tensor", [req], fin), async_op)


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False, group_dst=None):
    """Every rank's `tensor` into rank `dst`'s `gather_list` (which only `dst` passes)."""
    _tensor(tensor, "gather")
    g = _group(group)
    root = _root(g, dst, group_dst, "gather")
    src = _Buf(tensor, "gather").arr
    if g.rank == root:
        if not isinstance(gather_list, list) or len(gather_list) != g.size:
            raise ValueError(f"distributed.gather: the destination rank must pass gather_list, a list of {g.size} "
                             "tensors")
        out = host.empty((g.size,) + src.shape, src)
    else:
        if gather_list:
            raise ValueError("distributed.gather: gather_list must be given only on the destination rank")
        out = None
    req = g.comm.Igather(src, out, root=root)

    def fin():
        if out is not None:
            import autograd
            with autograd.no_grad():
                for i, t in enumerate(gather_list):
                    t.copy_(autograd.tensor(out[i], device=t.device))
    return _finish(g, Work(g, "gather", [req], fin), async_op)


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False, group_src=None):
    """Rank `src`'s `scatter_list[r]` into rank r's `tensor`."""
    _tensor(tensor, "scatter")
    g = _group(group)
    root = _root(g, src, group_src, "scatter")
    dst = _Buf(tensor, "scatter")
    if g.rank == root:
        if not isinstance(scatter_list, list) or len(scatter_list) != g.size:
            raise ValueError(f"distributed.scatter: the source rank must pass scatter_list, a list of {g.size} tensors")
        send = host.stack(scatter_list[0]._backend, [t._data for t in scatter_list])
        if send.shape[1:] != dst.arr.shape or send.dtype != dst.arr.dtype:
            raise ValueError(f"distributed.scatter: scatter_list holds {send.dtype.name}{send.shape[1:]} tensors, the "
                             f"output is {dst.arr.dtype.name}{dst.arr.shape}")
    else:
        if scatter_list:
            raise ValueError("distributed.scatter: scatter_list must be given only on the source rank")
        send = None
    req = g.comm.Iscatter(send, dst.arr, root=root)
    return _finish(g, Work(g, "scatter", [req], dst.done), async_op)


def barrier(group=None, async_op=False, device_ids=None):
    g = _group(group)
    return _finish(g, Work(g, "barrier", [g.comm.Ibarrier()]), async_op)


# ------------------------------------------------------------------------------------------------
# point to point

def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    _tensor(tensor, "isend")
    g = _group(group)
    peer = _root(g, dst, group_dst, "isend")
    arr = _Buf(tensor, "isend").arr
    return Work(g, "send", [g.comm.Isend(arr, dest=peer, tag=tag)])


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    from mpi4py import MPI
    _tensor(tensor, "irecv")
    g = _group(group)
    peer = MPI.ANY_SOURCE if src is None and group_src is None else _root(g, src, group_src, "irecv")
    b = _Buf(tensor, "irecv")
    req = g.comm.Irecv(b.arr, source=peer, tag=tag)
    w = Work(g, "recv", [req])

    def fin():
        b.done()
        return g.comm.Get_group().Translate_ranks([w._statuses[0].Get_source()], _world_group())[0] \
            if w._statuses else None
    w._finish = fin
    return w


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    isend(tensor, dst, group, tag, group_dst).wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into `tensor`; returns the sender's rank (any rank when src is None)."""
    w = irecv(tensor, src, group, tag, group_src)
    w.wait()
    return w._result


# ------------------------------------------------------------------------------------------------
# Python objects (small: pickled, as torch)

def all_gather_object(object_list, obj, group=None):
    g = _group(group)
    if not isinstance(object_list, list) or len(object_list) != g.size:
        raise ValueError(f"distributed.all_gather_object: object_list must be a list of {g.size} entries")
    got = _objects(g, "all_gather_object", lambda: g.comm.allgather(pickle.dumps(obj)))
    object_list[:] = [pickle.loads(b) for b in got]


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    g = _group(group)
    root = _root(g, 0 if src is None and group_src is None else src, group_src, "broadcast_object_list")
    data = pickle.dumps(list(object_list)) if g.rank == root else None
    got = _objects(g, "broadcast_object_list", lambda: g.comm.bcast(data, root=root))
    object_list[:] = pickle.loads(got)


def _objects(g, name, fn):
    Work(g, name, [g.comm.Ibarrier()]).wait()       # the timeout guards the meeting; the object move follows
    return fn()


def _world_group():
    from . import _WORLD
    return _WORLD.comm.Get_group()


def _root(g, rank, group_rank, name):
    """A peer's rank in group g: `rank` is global (torch's convention), `group_rank` group-local."""
    if group_rank is not None:
        r = int(group_rank)
    elif rank is None:
        raise ValueError(f"distributed.{name}: pass the peer rank")
    else:
        from . import _WORLD
        r = int(rank) if g is _WORLD else g.rank_of(int(rank))
    if not 0 <= r < g.size:
        raise ValueError(f"distributed.{name}: rank {r} is outside the group of size {g.size}")
    return r
