"""NCCL collectives on CuPy device arrays (backend "nccl"), through CuPy's NCCL bindings; the
communicator's unique id is broadcast over the group's MPI communicator. Each rank uses GPU
`device_id` (default: its rank modulo the visible GPUs). Work handles wait on a CUDA event recorded
after the collective on the current stream. Unverified on this project's CI (no GPUs there)."""
from __future__ import annotations

from . import ReduceOp, Work


def communicator(group, device_id=None):
    import cupy
    from cupy.cuda import nccl
    ndev = cupy.cuda.runtime.getDeviceCount()
    dev = (group.rank % ndev) if device_id is None else int(getattr(device_id, "index", device_id) or 0)
    cupy.cuda.Device(dev).use()
    uid = nccl.get_unique_id() if group.rank == 0 else None
    uid = group.comm.bcast(uid, root=0)
    return _Nccl(nccl.NcclCommunicator(group.size, uid, group.rank), group)


class _Nccl:
    def __init__(self, comm, group):
        from cupy.cuda import nccl
        self.comm, self.group, self.nccl = comm, group, nccl
        self.ops = {ReduceOp.SUM: nccl.NCCL_SUM, ReduceOp.PRODUCT: nccl.NCCL_PROD, ReduceOp.MAX: nccl.NCCL_MAX,
                    ReduceOp.MIN: nccl.NCCL_MIN, ReduceOp.AVG: getattr(nccl, "NCCL_AVG", None)}
        self.types = {"float16": nccl.NCCL_FLOAT16, "float32": nccl.NCCL_FLOAT32, "float64": nccl.NCCL_FLOAT64,
                      "int32": nccl.NCCL_INT32, "int64": nccl.NCCL_INT64, "uint8": nccl.NCCL_UINT8,
                      "int8": nccl.NCCL_INT8, "bool": nccl.NCCL_UINT8}

    def _arr(self, t, name):
        a = t._data
        if not a.flags.c_contiguous:
            raise RuntimeError(f"distributed.{name} (nccl): tensors must be contiguous, got strides {a.strides}")
        if a.dtype.name not in self.types:
            raise RuntimeError(f"distributed.{name} (nccl): dtype {a.dtype.name} is not supported")
        return a

    def _op(self, op, name):
        code = self.ops.get(op)
        if code is None:
            raise RuntimeError(f"distributed.{name} (nccl): reduce op {op} is not supported by this NCCL")
        return code

    def _work(self, name, tensors):
        import cupy
        ev = cupy.cuda.Event()
        ev.record()

        def fin():
            ev.synchronize()
            for t in tensors:
                t._vc[0] += 1
        return Work(self.group, name, [], fin)

    def all_reduce(self, t, op):
        import cupy
        a = self._arr(t, "all_reduce")
        self.comm.allReduce(a.data.ptr, a.data.ptr, a.size, self.types[a.dtype.name], self._op(op, "all_reduce"),
                            cupy.cuda.get_current_stream().ptr)
        return self._work("all_reduce", [t])

    def broadcast(self, t, root):
        import cupy
        a = self._arr(t, "broadcast")
        self.comm.bcast(a.data.ptr, a.size, self.types[a.dtype.name], root, cupy.cuda.get_current_stream().ptr)
        return self._work("broadcast", [t])

    def all_gather(self, out, inp):
        import cupy
        a, o = self._arr(inp, "all_gather_into_tensor"), self._arr(out, "all_gather_into_tensor")
        self.comm.allGather(a.data.ptr, o.data.ptr, a.size, self.types[a.dtype.name],
                            cupy.cuda.get_current_stream().ptr)
        return self._work("all_gather_into_tensor", [out])

    def reduce_scatter(self, out, inp, op):
        import cupy
        a, o = self._arr(inp, "reduce_scatter_tensor"), self._arr(out, "reduce_scatter_tensor")
        self.comm.reduceScatter(a.data.ptr, o.data.ptr, o.size, self.types[a.dtype.name],
                                self._op(op, "reduce_scatter_tensor"), cupy.cuda.get_current_stream().ptr)
        return self._work("reduce_scatter_tensor", [out])
