"""DistributedDataParallel (PyTorch's `torch.nn.parallel.DistributedDataParallel`) over
`autograd.distributed`.

Construction broadcasts rank 0's parameters and buffers (coalesced, one message per dtype). Parameters
are put into buckets in reverse registration order (roughly the order backward produces their
gradients; the first bucket is capped at 1 MiB so that communication starts early, the others at
`bucket_cap_mb`). Each parameter has a post-accumulate-grad hook: the engine runs it as soon as the
parameter's gradient is complete, in the middle of backward; when a bucket's last gradient arrives
its gradients are packed into one flat buffer and a non-blocking all-reduce starts, in bucket order
(the same on every rank, so collectives always match). The last bucket's hook waits for all of
them, divides by the world size and writes the averages into `.grad`. `no_sync()` skips all of this
so gradients accumulate locally; the next synchronised backward all-reduces the accumulated sum.
"""
from __future__ import annotations

import contextlib

import autograd as _ag
from autograd import distributed as dist
from autograd.graph import leaf_edges

from ..module import Module

_FIRST_BUCKET_BYTES = 1024 * 1024
_DEFAULT_BUCKET_MB = 25


class _Bucket:
    __slots__ = ("params", "offsets", "flat", "pending", "work")

    def __init__(self, params):
        self.params = params
        self.offsets, n = [], 0
        for p in params:
            self.offsets.append(n)
            n += p.numel()
        self.flat = None                  # the packed gradients, a tensor on the parameters' device
        self.pending = len(params)
        self.work = None


class DistributedDataParallel(Module):
    """Data parallelism: each rank runs `module` on its own batch; gradients are averaged across ranks
    during backward, so every rank's optimizer takes the same step. Wrap after moving the module to its
    device; `ddp.module` is the wrapped module and state_dict keys carry the `module.` prefix, as torch."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=None, init_sync=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params=False, bucket_cap_mb_list=None, batched_grad_copy=False,
                 forward_sync_buffers=None):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nn.Module, got {type(module).__name__}")
        if mixed_precision is not None or device_mesh is not None:
            raise NotImplementedError("DistributedDataParallel: mixed_precision and device_mesh are not supported")
        pg = dist._group(process_group)
        self.module = module
        self.process_group = pg
        self.broadcast_buffers = True if broadcast_buffers is None else bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.gradient_as_bucket_view = bool(gradient_as_bucket_view)
        self.static_graph = bool(static_graph)
        self.device_ids = device_ids
        self.require_backward_grad_sync = True
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter that "
                               "requires a gradient.")
        if init_sync:
            self._broadcast_coalesced([p for p in module.parameters()] + [b for b in module.buffers()])
        cap = float(bucket_cap_mb if bucket_cap_mb is not None else _DEFAULT_BUCKET_MB) * 1024 * 1024
        self._buckets = self._make_buckets(params, cap)
        where = {}
        for bi, b in enumerate(self._buckets):
            for pi, p in enumerate(b.params):
                where[id(p)] = bi, pi
        self._where = where
        self._hooks = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in params]
        self._armed = False       # a synchronised backward is expected
        self._next = 0             # next bucket to launch
        self._seen = set()

    # --- setup ---------------------------------------------------------------------------------
    @staticmethod
    def _make_buckets(params, cap):
        buckets, cur, size, first = [], [], 0, True
        for p in reversed(params):
            nbytes = p.numel() * p.element_size()
            limit = min(_FIRST_BUCKET_BYTES, cap) if first else cap
            if cur and (size + nbytes > limit or p.dtype != cur[0].dtype or p.device != cur[0].device):
                buckets.append(_Bucket(cur))
                cur, size, first = [], 0, False
            cur.append(p)
            size += nbytes
        if cur:
            buckets.append(_Bucket(cur))
        return buckets

    def _broadcast_coalesced(self, tensors, src=0):
        """Rank src's values into `tensors` on every rank: one broadcast per dtype."""
        by_dtype = {}
        for t in tensors:
            by_dtype.setdefault(t.dtype, []).append(t)
        for ts in by_dtype.values():
            flat = _ag.cat([t.detach().reshape(-1) for t in ts]) if len(ts) > 1 else ts[0].detach().reshape(-1).clone()
            dist.broadcast(flat, src, group=self.process_group)
            with _ag.no_grad():
                off = 0
                for t in ts:
                    n = t.numel()
                    t.copy_(flat[off:off + n].reshape(t.shape))
                    off += n

    # --- forward -------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self._armed:
            self._armed = False
            unready = [n for n, p in self.module.named_parameters() if p.requires_grad and id(p) in self._where
                       and id(p) not in self._seen]
            raise RuntimeError(
                "DistributedDataParallel: Expected to have finished reduction in the prior iteration before starting "
                "a new one. This error indicates that your module has parameters that were not used in producing "
                "loss. You can enable unused parameter detection by passing the keyword argument "
                f"`find_unused_parameters=True`. Parameters that did not receive a gradient: {unready}")
        # buffers (BatchNorm's running stats) follow rank 0 before each training forward; not under
        # no_grad, so that rank 0 alone may evaluate through the wrapper without waiting for the others
        if self.broadcast_buffers and self.require_backward_grad_sync and _ag.is_grad_enabled():
            bufs = list(self.module.buffers())
            if bufs:
                self._broadcast_coalesced(bufs)
        out = self.module(*inputs, **kwargs)
        if _ag.is_grad_enabled() and self.require_backward_grad_sync:
            self._prepare(out)
        return out

    def _prepare(self, out):
        for b in self._buckets:
            b.pending = len(b.params)
            b.work = None
        self._next = 0
        self._seen = set()
        self._armed = True
        if self.find_unused_parameters:
            used = _reachable_leaves(out)
            for b in self._buckets:
                for p in b.params:
                    if id(p) not in used:
                        self._grad_ready(p)

    # --- the reduction -------------------------------------------------------------------------
    def _grad_ready(self, p):
        if not self._armed or id(p) in self._seen:
            return
        self._seen.add(id(p))
        bi, _ = self._where[id(p)]
        b = self._buckets[bi]
        b.pending -= 1
        while self._next < len(self._buckets) and self._buckets[self._next].pending == 0:
            self._launch(self._buckets[self._next])
            self._next += 1
        for bb in self._buckets[:self._next]:          # drive MPI's progress while backward goes on
            if bb.work is not None:
                bb.work.is_completed()
        if self._next == len(self._buckets):
            self._finish()

    @_ag.no_grad()
    def _launch(self, b):
        """Pack the bucket's gradients into one flat tensor on their device (zeros for a parameter
        without one) and start its all-reduce: the backend's buffers go to MPI or NCCL as they are."""
        b.flat = _ag.cat([(p.grad if p.grad is not None else _ag.zeros_like(p)).reshape(-1) for p in b.params])
        b.work = dist.all_reduce(b.flat, dist.ReduceOp.SUM, group=self.process_group, async_op=True)

    @_ag.no_grad()
    def _finish(self):
        self._armed = False
        size = self.process_group.size
        for b in self._buckets:
            b.work.wait()
            b.flat /= size
            for p, off in zip(b.params, b.offsets):
                avg = b.flat[off:off + p.numel()].reshape(p.shape)
                if p.grad is None:
                    if bool(avg.any()):
                        p.grad = avg.clone()     # used on another rank; unused everywhere: stays None
                else:
                    p.grad.copy_(avg)
            b.flat = None

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, backward accumulates gradients locally without communicating; the first synchronised
        backward after it all-reduces the accumulated gradients."""
        prev = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = prev

    def extra_repr(self):
        return f"world_size={self.process_group.size}, buckets={len(self._buckets)}"


def _reachable_leaves(out):
    """ids of the leaves the outputs' graph reaches (find_unused_parameters)."""
    roots, stack = [], [out]
    while stack:
        o = stack.pop()
        if isinstance(o, _ag.Tensor):
            roots.append(o)
        elif isinstance(o, (list, tuple)):
            stack.extend(o)
        elif isinstance(o, dict):
            stack.extend(o.values())
    found = {id(t) for t in roots if t.grad_fn is None}
    found.update(id(leaf) for leaf in leaf_edges(roots))
    return found
