"""The Tensor: an array of some backend, plus what autograd needs to know about it.

A tensor that requires grad and came out of an op carries `grad_fn`, the tape node that made
it; leaves carry none. Its methods and operators are defined here, on the class, and call the
op functions in `ops`.
"""
from __future__ import annotations

import os

import backends as _backends
from backends import dtypes as _dt
from backends.base import format_array as _format_array


_new = object.__new__


class _Config:
    dtype = _dt.float32
    device = _dt.device(os.environ.get("TAPEGRAD_DEVICE", "cpu"))


_config = _Config()


def _default_dtype():
    return _config.dtype


def _backend_for(device):
    if device is None:
        device = _config.device
    be = _backends.get(device)
    if not be.is_available():
        raise RuntimeError(f"device '{device}' is not available: {be.unavailable_reason()}")
    _random._ensure_seeded(be)
    return be


def _wrap(data, be, requires_grad=False, grad_fn=None, idx=0):
    """A Tensor around a backend array: the engine's fast constructor (no checks, no copies)."""
    t = _new(Tensor)
    t._data = data
    t._backend = be
    t._rg = requires_grad
    t.grad_fn = grad_fn
    t._idx = idx
    t.grad = None
    t._vc = [0] if not _inference_active or not _grad_mode._inference.get() else InferenceVersion([0])
    t._hooks = None
    return t


#: True while some thread is inside inference_mode() (set by grad_mode.inference_mode)
_inference_active = False


class InferenceVersion(list):
    """The version counter of an inference tensor (made under inference_mode): in-place writes
    to it are refused outside inference mode, as torch refuses them."""
    __slots__ = ()

    def __setitem__(self, i, v):
        if not _grad_mode._inference.get():
            raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not allowed. You can "
                               "make a clone to get a normal tensor before doing inplace update (the tensor was "
                               "created under autograd.inference_mode()).")
        list.__setitem__(self, i, v)


class Tensor:
    # `_view` (a ViewInfo: base, how to re-derive this view from it) is set only on views, by the
    # view ops; `_wrap` leaves it unset so that the hot path pays nothing: read it with getattr.
    __slots__ = ("_data", "_backend", "_rg", "grad_fn", "_idx", "grad", "_vc", "_hooks", "_view", "__weakref__")
    __array_ufunc__ = None        # ndarray + Tensor reaches Tensor.__radd__
    __array_priority__ = 1000

    def __init__(self, data=(), *, dtype=None, device=None, requires_grad=False):
        t = tensor(data, dtype=dtype if dtype is not None else (None if isinstance(data, Tensor) else _config.dtype),
                   device=device, requires_grad=requires_grad)
        for s in Tensor.__slots__[:-2]:           # a new leaf: no `_view`
            setattr(self, s, getattr(t, s))

    # --- metadata --------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_ops.norm_dim(dim, self._data.ndim, "size", wrap_scalar=False)]

    @property
    def dtype(self):
        return self._backend.dtype_from_native(self._data.dtype)

    @property
    def device(self):
        return _dt.device(self._backend.device_type, getattr(self._backend, "index", None))

    @property
    def is_cuda(self):
        return self._backend.device_type == "cuda"

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        n = 1
        for s in self._data.shape:
            n *= s
        return n

    nelement = numel

    def element_size(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.numel() * self.dtype.itemsize

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def stride(self, dim=None):
        """Element strides (PyTorch's), from the backend array's layout."""
        st = self._layout()[0]
        if dim is None:
            return st
        if self._data.ndim == 0 and isinstance(dim, int):
            raise IndexError(f"stride: Dimension specified as {dim} but tensor has no dimensions")
        return st[_ops.norm_dim(dim, self._data.ndim, "stride")]

    def storage_offset(self):
        return self._layout()[1]

    def _layout(self):
        lay = self._backend.layout(self._data)
        if lay is None:          # a library that does not expose strides: its arrays are compact
            st, n = [], 1
            for s in reversed(self._data.shape):
                st.append(n)
                n *= max(s, 1)
            return tuple(reversed(st)), 0
        return lay

    def is_contiguous(self, memory_format=None):
        """PyTorch's rule: strides are row-major wherever a dim has more than one element."""
        st = self._layout()[0]
        expected = 1
        for size, stride in zip(reversed(self._data.shape), reversed(st)):
            if size == 0:
                return True
            if size != 1:
                if stride != expected:
                    return False
                expected *= size
        return True

    def contiguous(self, memory_format=None):
        """self when contiguous, else a row-major copy (recorded, differentiable, like clone)."""
        if self.is_contiguous():
            return self
        return _ops.apply(_ops.shape.Contiguous, (self,))

    @property
    def _base(self):
        """The tensor this one is a view of (the root of a chain of views), or None."""
        v = getattr(self, "_view", None)
        return None if v is None else v.base

    def _is_view(self):
        return getattr(self, "_view", None) is not None

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def requires_grad(self):
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use "
                               "a computed variable in a subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach().")
        if requires_grad and type(self._vc) is not list and not _grad_mode._inference.get():
            raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed "
                               "(it was created under autograd.inference_mode(); clone() it first).")
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients "
                               f"(this one is {self.dtype.name})")
        self._rg = bool(requires_grad)
        return self

    @property
    def data(self):
        """The same storage, detached and unseen by version counting (PyTorch's `.data`)."""
        return _wrap(self._data, self._backend)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data
        self._backend = value._backend

    def is_inference(self):
        """Whether this tensor was made under inference_mode() (or is a view of one)."""
        return type(self._vc) is not list

    @property
    def version(self):
        """How many times this tensor (or a view sharing its storage) was modified in place."""
        return self._vc[0]

    _version = version

    @property
    def T(self):
        return _ops.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self):
        if self.ndim < 2:
            raise RuntimeError(f"mT: tensor must have at least 2 dims, got {self.ndim}")
        return _ops.transpose(self, -2, -1)

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self.T

    # --- conversion ------------------------------------------------------------
    def item(self):
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to Scalar")
        return self._backend.to_numpy(self._data).reshape(()).item()

    def tolist(self):
        return self._backend.to_numpy(self._data).tolist()

    def numpy(self, force=False):
        if self._rg and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead.")
        if self._backend.device_type != "cpu" and not force:
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to "
                            f"copy the tensor to host memory first.")
        return self._backend.to_numpy(self._data)

    def __array__(self, dtype=None, copy=None):
        a = self._backend.to_numpy(self._data)
        return a if dtype is None else a.astype(dtype)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {tuple(self.shape)})")
        return bool(self.item())

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(_ops.unbind(self, 0))

    __hash__ = object.__hash__

    def __round__(self, ndigits=None):
        return round(self.item(), ndigits) if ndigits is not None else round(self.item())

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, _dt.DType) or (isinstance(a, type) and a in _PY_DTYPES):
                dtype = a
            elif a is not None:
                device = a
        out = self
        if device is not None:
            dev = _dt.device(device)
            be = _backend_for(dev)
            if be is not self._backend:
                from .function import move_to_backend
                out = move_to_backend(out, be)
        if dtype is not None:
            dtype = _as_dtype(dtype)
            if dtype is not out.dtype:
                if dtype.is_floating_point:
                    out = _ops.apply(_ops.Cast, (out,), out._backend.native_dtype(dtype))
                else:           # an integer or bool result has no gradient (torch): not recorded
                    be = out._backend
                    out = _wrap(be.xp.astype(out._data, be.native_dtype(dtype)), be)
        if copy and out is self:
            out = self.clone()
        return out

    def type(self, dtype=None):
        if dtype is None:
            return f"autograd.{self.dtype.name}"
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self): return self.to(_dt.float32)
    def double(self): return self.to(_dt.float64)
    def half(self): return self.to(_dt.float16)
    def long(self): return self.to(_dt.int64)
    def int(self): return self.to(_dt.int32)
    def bool(self): return self.to(_dt.bool_)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)

    def detach(self):
        """Same storage and version counter, cut from the graph."""
        t = _wrap(self._data, self._backend)
        t._vc = self._vc
        return t

    def detach_(self):
        self.grad_fn = None
        self._rg = False
        return self

    def clone(self):
        return _ops.apply(_ops.Clone, (self,))

    # --- autograd --------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        _engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in `.grad` after backward."""
        if self.grad_fn is None:
            if not self._rg:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        import weakref
        ref = weakref.ref(self)

        def keep(g):
            t = ref()
            if t is not None:
                t.grad = g.detach() if t.grad is None else t.grad + g.detach()
        node = self.grad_fn
        if node.hooks is None:
            node.hooks = {}
        hooks = node.hooks.setdefault(self._idx, {})
        if not any(getattr(h, "_retains", None) is ref for h in hooks.values()):
            keep._retains = ref
            from .graph import add_hook
            add_hook(hooks, keep)

    @property
    def retains_grad(self):
        n = self.grad_fn
        return bool(n is not None and n.hooks and any(hasattr(h, "_retains") for h in n.hooks.get(self._idx, {}).values()))

    def register_hook(self, hook):
        """Call hook(grad) when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .graph import add_hook
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = {}
            return add_hook(self._hooks, hook)
        node = self.grad_fn
        if node.hooks is None:
            node.hooks = {}
        return add_hook(node.hooks.setdefault(self._idx, {}), hook)

    def __deepcopy__(self, memo):
        """A leaf's copy: new storage on the same backend (the backend object is shared, not copied,
        so the copy mixes with other tensors), requires_grad and .grad copied; torch's rule for
        non-leaves."""
        if id(self) in memo:
            return memo[id(self)]
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                               "because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        t = _wrap(self._backend.asarray(self._data, copy=True), self._backend, self._rg)
        memo[id(self)] = t
        if self.grad is not None:
            t.grad = self.grad.__deepcopy__(memo)
        return t

    def register_post_accumulate_grad_hook(self, hook):
        """Call hook(tensor) on this leaf right after backward has accumulated its `.grad` (as soon as
        its gradient is complete, while the rest of backward may still run: DDP starts all-reduce here)."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        from .graph import add_post_hook
        return add_post_hook(self, hook)

    # --- printing --------------------------------------------------------------
    def __repr__(self):
        arr = self._backend.to_numpy(self._data)
        body = _format_array(arr, "tensor(")
        extras = []
        if self._backend.device_type != "cpu":
            extras.append(f"device='{self.device}'")
        dt = self.dtype
        if dt not in (_config.dtype, _dt.int64, _dt.bool_) or arr.size == 0 and dt is not _config.dtype:
            extras.append(f"dtype={dt!r}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self._rg:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def __format__(self, format_spec):
        """As PyTorch: a 0-d Tensor formats as its Python number (`f"{loss:.4f}"`); anything else
        (more dims, or a subclass such as Parameter) as object does: str() for an empty spec,
        else TypeError."""
        if self._data.ndim == 0 and type(self) is Tensor:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec)

    # --- operators ---------------------------------------------------------------
    # +, -, * go straight to the primitive: a call less on the hottest path
    def __add__(self, o): return _ops.binary(_ops.Add, self, o)
    def __radd__(self, o): return _ops.binary(_ops.Add, o, self)
    def __sub__(self, o): return _ops.binary(_ops.Sub, self, o)
    def __rsub__(self, o): return _ops.binary(_ops.Sub, o, self)
    def __mul__(self, o): return _ops.binary(_ops.Mul, self, o)
    def __rmul__(self, o): return _ops.binary(_ops.Mul, o, self)
    def __truediv__(self, o): return _ops.div(self, o)
    def __rtruediv__(self, o): return _ops.div(o, self)
    def __floordiv__(self, o): return _ops.div(self, o, rounding_mode="floor")
    def __rfloordiv__(self, o): return _ops.div(o, self, rounding_mode="floor")
    def __mod__(self, o): return _ops.remainder(self, o)
    def __rmod__(self, o): return _ops.remainder(o, self)
    def __pow__(self, o): return _ops.pow(self, o)
    def __rpow__(self, o): return _ops.pow(o, self)
    def __matmul__(self, o): return _ops.matmul(self, o)
    def __rmatmul__(self, o): return _ops.matmul(o, self)
    def __neg__(self): return _ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return _ops.abs(self)
    def __invert__(self): return _ops.bitwise_not(self)
    def __and__(self, o): return _ops.logical(self, o, "and")
    def __or__(self, o): return _ops.logical(self, o, "or")
    def __xor__(self, o): return _ops.logical(self, o, "xor")
    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__
    def __lshift__(self, o): return _ops.bitwise_left_shift(self, o)
    def __rlshift__(self, o): return _ops.bitwise_left_shift(o, self)
    def __rshift__(self, o): return _ops.bitwise_right_shift(self, o)
    def __rrshift__(self, o): return _ops.bitwise_right_shift(o, self)
    def __ilshift__(self, o): return self.bitwise_left_shift_(o)
    def __irshift__(self, o): return self.bitwise_right_shift_(o)
    def __eq__(self, o): return _ops.compare(self, o, "eq")
    def __ne__(self, o): return _ops.compare(self, o, "ne")
    def __lt__(self, o): return _ops.compare(self, o, "lt")
    def __le__(self, o): return _ops.compare(self, o, "le")
    def __gt__(self, o): return _ops.compare(self, o, "gt")
    def __ge__(self, o): return _ops.compare(self, o, "ge")
    def __getitem__(self, index): return _ops.getitem(self, index)

    def __setitem__(self, index, value):
        from .inplace import setitem
        setitem(self, index, value)

    def __iadd__(self, o): return self.add_(o)
    def __isub__(self, o): return self.sub_(o)
    def __imul__(self, o): return self.mul_(o)
    def __itruediv__(self, o): return self.div_(o)

    # --- methods that are not ops' own (every `@op` in autograd/ops is also a method) ---------
    def where(self, condition, other): return _ops.where(condition, self, other)
    def view(self, *shape):
        if len(shape) == 1 and (isinstance(shape[0], _dt.DType) or isinstance(shape[0], type) and shape[0] in _PY_DTYPES):
            return self._view_dtype(shape[0])
        return _ops.shape.view(self, *shape)
    def view_as(self, o): return _ops.shape.view(self, o.shape)
    def unfold(self, dimension, size, step): return _ops.arrange.unfold(self, dimension, size, step)

    # shape changes in place (a view of the same storage; see ops.shape.inplace_view_)
    def transpose_(self, dim0, dim1): return self._permute_("transpose_", dim0, dim1)
    def swapaxes_(self, axis0, axis1): return self._permute_("swapaxes_", axis0, axis1)
    def swapdims_(self, dim0, dim1): return self._permute_("swapdims_", dim0, dim1)

    def t_(self):
        if self.ndim > 2:
            raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self._permute_("t_", 0, -1) if self.ndim == 2 else self._permute_("t_", 0, 0)

    def _permute_(self, name, d0, d1):
        dims = _ops.shape.transpose_dims(self, d0, d1, name)
        return _ops.shape.inplace_view_(self, name, _ops.shape.Permute, (dims,))

    def squeeze_(self, dim=None):
        shape = tuple(_ops.squeeze(_wrap(self._data, self._backend), dim).shape)
        return _ops.shape.inplace_view_(self, "squeeze_", _ops.shape.Reshape, (shape,))

    def unsqueeze_(self, dim):
        shape = tuple(_ops.unsqueeze(_wrap(self._data, self._backend), dim).shape)
        return _ops.shape.inplace_view_(self, "unsqueeze_", _ops.shape.Reshape, (shape,))
    def reshape_as(self, o): return _ops.reshape(self, o.shape)
    def expand_as(self, o): return _ops.expand(self, o.shape)
    def equal(self, o): return self.shape == o.shape and bool((self == o).all())
    def allclose(self, o, rtol=1e-5, atol=1e-8, equal_nan=False):
        return _ops.reduce.tensor_allclose(self, o, rtol, atol, equal_nan)

    # new_*: this tensor's dtype and device unless given (torch's keyword-only dtype/device/requires_grad)
    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
        return _fac.zeros(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
        return _fac.ones(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
        return _fac.full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                         requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
        return _fac.zeros(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
        if isinstance(data, Tensor):
            data = data.detach()
        return _fac.tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    # --- memory: addresses, dtype views, DLPack (issue 11) ------------------------------------
    @property
    def itemsize(self):
        return self.dtype.itemsize

    def data_ptr(self):
        """The address of the first element (0 on a backend that does not expose one)."""
        return self._backend.data_ptr(self._data)

    def _view_dtype(self, dtype):
        """view(dtype): the same bytes read as another dtype (the last dim rescaled), sharing storage."""
        dtype = _as_dtype(dtype)
        old, new = self.dtype.itemsize, dtype.itemsize
        if old != new:
            name = f"view {self.dtype.name} as {dtype.name} (different element sizes)"
            if self.ndim == 0:
                raise RuntimeError(f"view: self.dim() cannot be 0 to {name}")
            if self._data.shape[-1] != 1 and self.stride(-1) != 1:
                raise RuntimeError(f"view: self.stride(-1) must be 1 to {name}")
            if new > old and self._data.shape[-1] % (new // old):
                raise RuntimeError(f"view: self.size(-1) must be divisible by {new // old} to {name}, but got "
                                   f"{self._data.shape[-1]}")
        be = self._backend
        t = _wrap(be.view_dtype(self._data, be.native_dtype(dtype)), be)
        t._vc = self._vc                  # the same storage: in-place writes show in both
        return t

    def __dlpack__(self, *args, **kwargs):
        if self._rg:
            raise RuntimeError("__dlpack__: Can't export tensors that require gradient, use tensor.detach()")
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    # --- in place (see inplace.py for the version-counter rules; unary ones come from @op) -----
    def add_(self, o, alpha=1): return _inplace.binary_(self, o, "add", alpha)
    def sub_(self, o, alpha=1): return _inplace.binary_(self, o, "sub", alpha)
    def mul_(self, o): return _inplace.binary_(self, o, "mul")
    def div_(self, o, *, rounding_mode=None): return _inplace.binary_(self, o, "div", rounding_mode=rounding_mode)
    def pow_(self, o): return _inplace.apply_(self, lambda t: t ** o, "pow_", o)
    def zero_(self): return _inplace.fill_(self, 0)
    def fill_(self, value): return _inplace.fill_(self, value)
    def copy_(self, src): return _inplace.copy_(self, src)
    # random fills (autograd/ops/random_ops.py): generator= or the device's default generator
    def uniform_(self, from_=0.0, to=1.0, *, generator=None, **kw):
        return _ops.random_ops.uniform_(self, kw.pop("from", from_), to, generator=generator, **kw)
    def normal_(self, mean=0.0, std=1.0, *, generator=None): return _ops.random_ops.normal_(self, mean, std, generator=generator)
    def log_normal_(self, mean=1.0, std=2.0, *, generator=None): return _ops.random_ops.log_normal_(self, mean, std, generator=generator)
    def exponential_(self, lambd=1.0, *, generator=None): return _ops.random_ops.exponential_(self, lambd, generator=generator)
    def cauchy_(self, median=0.0, sigma=1.0, *, generator=None): return _ops.random_ops.cauchy_(self, median, sigma, generator=generator)
    def geometric_(self, p, *, generator=None): return _ops.random_ops.geometric_(self, p, generator=generator)
    def bernoulli_(self, p=0.5, *, generator=None): return _ops.random_ops.bernoulli_(self, p, generator=generator)
    def random_(self, *args, generator=None, **kwargs): return _ops.random_ops.random_(self, *args, generator=generator, **kwargs)
    def addcmul_(self, t1, t2, value=1): return self.add_(t1 * t2 * value) if value != 1 else self.add_(t1 * t2)
    def addcdiv_(self, t1, t2, value=1): return self.add_(t1 / t2 * value) if value != 1 else self.add_(t1 / t2)
    def lerp_(self, end, weight): return self.add_((end - self) * weight)


_PY_DTYPES = {float: _dt.float64, int: _dt.int64, bool: _dt.bool_}


def _as_dtype(dtype):
    """A DType from a DType, its name, or a Python type (torch: float -> float64, int -> int64)."""
    if isinstance(dtype, _dt.DType):
        return dtype
    if isinstance(dtype, str) and dtype in _dt.BY_NAME:
        return _dt.BY_NAME[dtype]
    if isinstance(dtype, type) and dtype in _PY_DTYPES:
        return _PY_DTYPES[dtype]
    raise TypeError(f"to(): dtype must be an autograd dtype (e.g. autograd.float32), got {dtype!r}; tapegrad has "
                    "float16/32/64, uint8, int8/16/32/64 and bool (no complex or bfloat16)")


class Size(tuple):
    """Tensor shape, a tuple (as torch.Size)."""
    __slots__ = ()

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"autograd.Size({list(self)})"


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new leaf tensor copied from data (nested lists, scalars, NumPy arrays, Tensors)."""
    from .factories import tensor as _t
    return _t(data, dtype=dtype, device=device, requires_grad=requires_grad)


from . import grad_mode as _grad_mode  # noqa: E402
from . import engine as _engine  # noqa: E402
from . import factories as _fac  # noqa: E402
from . import random as _random  # noqa: E402
from . import inplace as _inplace  # noqa: E402
from . import ops as _ops  # noqa: E402

_ops._registry.install_methods(Tensor, _inplace.apply_)   # a method for every declared op
