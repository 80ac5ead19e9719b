"""NCCL collectives on CuPy device arrays (autograd.distributed's backend "nccl"), through CuPy's NCCL
bindings. The communicator's unique id travels through `share_id` (autograd.distributed broadcasts it
over the group's MPI communicator). Each call is queued on the current stream and returns a CUDA event
recorded after it; the caller waits on it. Unverified on this project's CI (no GPUs there)."""
from __future__ import annotations


def available():
    """Whether CuPy's NCCL bindings load here (CuPy with CUDA and an NCCL build)."""
    try:
        from cupy.cuda import nccl
        return nccl.available if hasattr(nccl, "available") else True
    except Exception:  # noqa: BLE001 - no CuPy, no CUDA, no NCCL build
        return False


class Communicator:
    def __init__(self, size, rank, share_id, device_id=None):
        import cupy
        from cupy.cuda import nccl
        ndev = cupy.cuda.runtime.getDeviceCount()
        dev = (rank % ndev) if device_id is None else int(getattr(device_id, "index", device_id) or 0)
        cupy.cuda.Device(dev).use()
        uid = share_id(nccl.get_unique_id() if rank == 0 else None)
        self.comm = nccl.NcclCommunicator(size, uid, rank)
        self.ops = {"sum": nccl.NCCL_SUM, "product": nccl.NCCL_PROD, "max": nccl.NCCL_MAX, "min": nccl.NCCL_MIN,
                    "avg": getattr(nccl, "NCCL_AVG", None)}
        self.types = {"float16": nccl.NCCL_FLOAT16, "float32": nccl.NCCL_FLOAT32, "float64": nccl.NCCL_FLOAT64,
                      "int32": nccl.NCCL_INT32, "int64": nccl.NCCL_INT64, "uint8": nccl.NCCL_UINT8,
                      "int8": nccl.NCCL_INT8, "bool": nccl.NCCL_UINT8}

    def _check(self, a, name):
        if not a.flags.c_contiguous:
            raise RuntimeError(f"distributed.{name} (nccl): tensors must be contiguous, got strides {a.strides}")
        if a.dtype.name not in self.types:
            raise RuntimeError(f"distributed.{name} (nccl): dtype {a.dtype.name} is not supported")
        return self.types[a.dtype.name]

    def _op(self, op, name):
        code = self.ops.get(op)
        if code is None:
            raise RuntimeError(f"distributed.{name} (nccl): reduce op {op!r} is not supported by this NCCL")
        return code

    def _done(self):
        import cupy
        ev = cupy.cuda.Event()
        ev.record()
        return ev

    def all_reduce(self, a, op):
        import cupy
        t = self._check(a, "all_reduce")
        self.comm.allReduce(a.data.ptr, a.data.ptr, a.size, t, self._op(op, "all_reduce"),
                            cupy.cuda.get_current_stream().ptr)
        return self._done()

    def broadcast(self, a, root):
        import cupy
        self.comm.bcast(a.data.ptr, a.size, self._check(a, "broadcast"), root, cupy.cuda.get_current_stream().ptr)
        return self._done()

    def all_gather(self, out, inp):
        import cupy
        t = self._check(inp, "all_gather_into_tensor")
        self._check(out, "all_gather_into_tensor")
        self.comm.allGather(inp.data.ptr, out.data.ptr, inp.size, t, cupy.cuda.get_current_stream().ptr)
        return self._done()

    def reduce_scatter(self, out, inp, op):
        import cupy
        t = self._check(inp, "reduce_scatter_tensor")
        self._check(out, "reduce_scatter_tensor")
        self.comm.reduceScatter(inp.data.ptr, out.data.ptr, out.size, t, self._op(op, "reduce_scatter_tensor"),
                                cupy.cuda.get_current_stream().ptr)
        return self._done()
