"""`autograd.distributed` (PyTorch's `torch.distributed`): process groups and collectives over MPI, and
over NCCL on GPUs.

    import autograd.distributed as dist
    dist.init_process_group("mpi")            # rank and world size come from MPI (mpiexec -n 2 ...)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)  # in place, on every rank

Transport is an existing, proven engine, never a home-made one: `mpi4py` (install the `distributed`
extra: mpi4py + the MPICH wheel, which brings `mpiexec`) moves CPU tensors' NumPy buffers directly
(no pickling of arrays); `backend="nccl"` runs collectives on CuPy device arrays through CuPy's
NCCL bindings, its communicator bootstrapped over MPI. mpi4py is imported by `init_process_group`,
not by `import autograd`.

Blocking calls are non-blocking MPI requests waited on with the group's `timeout` (default 30
minutes, as torch): a peer that died or hangs makes the others raise a RuntimeError naming the
collective and the rank, and an exception escaping any rank's program aborts the whole job
(`MPI_Abort`), so a job never hangs forever. Launch with `mpiexec -n 2 python train.py` or
`python -m autograd.distributed.run --nproc-per-node 2 train.py` (torchrun's role).
"""
from __future__ import annotations

import datetime
import enum
import os
import sys
import time

__all__ = ["Backend", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "all_gather", "all_gather_into_tensor",
           "all_gather_object", "all_reduce", "barrier", "broadcast", "broadcast_object_list", "destroy_process_group",
           "gather", "get_backend", "get_rank", "get_world_size", "init_process_group", "irecv", "is_available",
           "is_initialized", "is_main_process", "is_mpi_available", "is_nccl_available", "isend", "new_group", "recv",
           "reduce", "reduce_scatter_tensor", "scatter", "send"]

DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)


class ReduceOp(enum.Enum):
    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"

    def __repr__(self):
        return f"<ReduceOp.{self.name}>"


class Backend(str):
    """A backend name: Backend("MPI") == "mpi"."""
    MPI = "mpi"
    NCCL = "nccl"
    GLOO = "gloo"

    def __new__(cls, name):
        name = str(name).lower()
        if name not in ("mpi", "nccl", "gloo"):
            raise ValueError(f"Backend: unknown backend {name!r}; tapegrad offers 'mpi' and 'nccl' "
                             "('gloo' is accepted as a synonym of 'mpi')")
        return super().__new__(cls, name)


def is_available():
    return True


def is_mpi_available():
    try:
        import mpi4py  # noqa: F401
        return True
    except ImportError:
        return False


def is_nccl_available():
    from backends import nccl
    return nccl.available()


# ------------------------------------------------------------------------------------------------
# work handles

class Work:
    """What an `async_op=True` collective returns: `wait()` blocks until done (then the tensor holds the
    result), `is_completed()` polls. Blocking collectives are a Work waited on at once."""

    def __init__(self, group, name, requests, finish=None):
        self._group, self._name, self._requests, self._finish = group, name, list(requests), finish
        self._done = False
        self._result = None
        self._statuses = None

    def _test(self, MPI):
        if self._statuses is None:
            self._statuses = [MPI.Status() for _ in self._requests]
        return MPI.Request.Testall(self._requests, self._statuses)

    def is_completed(self):
        if self._done:
            return True
        from mpi4py import MPI
        if self._requests and not self._test(MPI):
            return False
        self._complete()
        return True

    def wait(self, timeout=None):
        if self._done:
            return True
        from mpi4py import MPI
        limit = _seconds(timeout) if timeout is not None else self._group.timeout
        if self._requests:
            deadline = time.monotonic() + limit
            spins = 0
            while not self._test(MPI):
                spins += 1
                if spins > 200:                 # spin briefly (latency), then yield the core
                    time.sleep(0.0002 if spins < 5000 else 0.002)
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"distributed.{self._name}: rank {self._group.rank} of {self._group.size} waited "
                        f"{limit:.0f} s for its peers (timeout); a peer rank has died, hangs, or did not call "
                        f"the same collective")
        self._complete()
        return True

    def _complete(self):
        self._done = True
        if self._finish is not None:
            self._result = self._finish()
            self._finish = None

    def result(self):
        self.wait()
        return self._result


def _seconds(t):
    return t.total_seconds() if isinstance(t, datetime.timedelta) else float(t)


# ------------------------------------------------------------------------------------------------
# process groups

class ProcessGroup:
    """A set of ranks with its own MPI communicator (and NCCL communicator for backend 'nccl')."""

    def __init__(self, comm, backend, timeout):
        self.comm = comm
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self.backend = backend
        self.timeout = _seconds(timeout)
        self._nccl = None

    def rank_of(self, global_rank):
        from mpi4py import MPI
        r = MPI.Group.Translate_ranks(_WORLD.comm.Get_group(), [global_rank], self.comm.Get_group())[0]
        if r == MPI.UNDEFINED:
            raise ValueError(f"distributed: global rank {global_rank} is not in this group")
        return r

    def __repr__(self):
        return f"<ProcessGroup backend={self.backend} rank={self.rank} size={self.size}>"


class GroupMember:
    WORLD = None
    NON_GROUP_MEMBER = object()


_WORLD: ProcessGroup | None = None
_excepthook_installed = False


def _world():
    if _WORLD is None:
        raise RuntimeError("Default process group has not been initialized, please make sure to call "
                           "init_process_group.")
    return _WORLD


def _group(group):
    if group is None or group is GroupMember.WORLD:
        return _world()
    if group is GroupMember.NON_GROUP_MEMBER:
        raise RuntimeError("distributed: this rank is not a member of the group")
    return group


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Join the default process group. Rank and world size come from MPI (the job was started by
    `mpiexec` or `python -m autograd.distributed.run`); `world_size`/`rank`, when given, must agree.
    `backend`: "mpi" (CPU tensors; also "gloo", a synonym) or "nccl" (CuPy tensors), default "mpi";
    "cpu:mpi,cuda:nccl" style strings pick per device as torch does."""
    global _WORLD, _excepthook_installed
    if _WORLD is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    try:
        import mpi4py
        mpi4py.rc.threads = False               # one thread calls MPI: the cheapest level
        from mpi4py import MPI
    except ImportError as e:
        raise RuntimeError("distributed.init_process_group: mpi4py is not installed; install the 'distributed' "
                           "extra (pip install \".[distributed]\": mpi4py and the MPICH wheel)") from e
    name = _pick_backend(backend)
    comm = MPI.COMM_WORLD.Dup()
    if world_size not in (-1, None) and int(world_size) != comm.Get_size():
        raise ValueError(f"init_process_group: world_size={world_size} but MPI started {comm.Get_size()} processes")
    if rank not in (-1, None) and int(rank) != comm.Get_rank():
        raise ValueError(f"init_process_group: rank={rank} but MPI says this process is rank {comm.Get_rank()}")
    _WORLD = ProcessGroup(comm, name, timeout if timeout is not None else DEFAULT_TIMEOUT)
    GroupMember.WORLD = _WORLD
    os.environ.setdefault("RANK", str(_WORLD.rank))
    os.environ.setdefault("WORLD_SIZE", str(_WORLD.size))
    if name == "nccl":
        _WORLD._nccl = _nccl_communicator(_WORLD, device_id)
    if not _excepthook_installed:
        _install_excepthook()
        _excepthook_installed = True


def _nccl_communicator(group, device_id):
    """The group's NCCL communicator (backends.nccl), its unique id broadcast over the group's MPI one."""
    from backends import nccl
    return nccl.Communicator(group.size, group.rank, lambda uid: group.comm.bcast(uid, root=0), device_id)


def _pick_backend(backend):
    if backend is None:
        return "mpi"
    text = str(backend).lower()
    if ":" in text:                             # "cpu:gloo,cuda:nccl": the cuda entry decides
        parts = dict(p.split(":", 1) for p in text.split(","))
        text = parts.get("cuda", parts.get("cpu", "mpi"))
    name = Backend(text)
    if name == "gloo":
        name = "mpi"
    if name == "nccl" and not is_nccl_available():
        raise RuntimeError("init_process_group: backend 'nccl' needs CuPy with NCCL (pip install \".[cuda]\" on a "
                           "machine with NVIDIA GPUs)")
    return str(name)


def _install_excepthook():
    """An exception escaping one rank's program aborts the job (MPI_Abort), so that peers blocked in a
    collective do not wait for it forever; the traceback is printed first, marked with the rank."""
    prev = sys.excepthook

    def hook(tp, value, tb):
        rank = _WORLD.rank if _WORLD is not None else "?"
        sys.stderr.write(f"[rank {rank}] uncaught {tp.__name__}: {value}: aborting the distributed job\n")
        sys.stderr.flush()
        prev(tp, value, tb)
        sys.stderr.flush()
        time.sleep(0.5)                 # let mpiexec forward the traceback before the job is torn down
        try:
            from mpi4py import MPI
            MPI.COMM_WORLD.Abort(1)
        except Exception:  # noqa: BLE001
            os._exit(1)

    sys.excepthook = hook


def is_initialized():
    return _WORLD is not None


def destroy_process_group(group=None):
    global _WORLD
    if group is None or group is _WORLD:
        if _WORLD is not None:
            _WORLD.comm.Free()
        _WORLD = None
        GroupMember.WORLD = None
    else:
        group.comm.Free()


def get_rank(group=None):
    return _group(group).rank


def get_world_size(group=None):
    return _group(group).size


def get_backend(group=None):
    return _group(group).backend


def is_main_process(group=None):
    """True on rank 0 (or when no process group is initialized): where checkpoints and logs are written."""
    return _WORLD is None or _group(group).rank == 0


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None):
    """A sub-group of the given global ranks (all ranks by default). Every rank must call it, as in torch;
    ranks outside the group get GroupMember.NON_GROUP_MEMBER."""
    world = _world()
    ranks = sorted(range(world.size) if ranks is None else {int(r) for r in ranks})
    bad = [r for r in ranks if not 0 <= r < world.size]
    if bad:
        raise ValueError(f"new_group: ranks {bad} are outside the world of size {world.size}")
    sub = world.comm.Create(world.comm.Get_group().Incl(ranks))
    if world.rank not in ranks:
        return GroupMember.NON_GROUP_MEMBER
    g = ProcessGroup(sub, _pick_backend(backend) if backend else world.backend,
                     timeout if timeout is not None else world.timeout)
    if g.backend == "nccl":
        g._nccl = _nccl_communicator(g, device_id)
    return g


# ------------------------------------------------------------------------------------------------
# collectives

from ._collectives import (all_gather, all_gather_into_tensor, all_gather_object, all_reduce, barrier,  # noqa: E402
                           broadcast, broadcast_object_list, gather, irecv, isend, recv, reduce, reduce_scatter_tensor,
                           scatter, send)
