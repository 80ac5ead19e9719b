"""Tensor factories, PyTorch's names and dtype rules (Python floats become the default dtype)."""
from __future__ import annotations

import math
import numbers

from backends import dtypes as _dt

from .tensor import Tensor, _backend_for, _config, _wrap


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s.item())
        if not isinstance(s, numbers.Integral) or s < 0:
            raise ValueError(f"invalid size {tuple(size)}: sizes must be non-negative integers")
        out.append(int(s))
    return tuple(out)


def _dtype(dtype, default=None):
    if dtype is None:
        return default or _config.dtype
    if isinstance(dtype, str):
        return _dt.BY_NAME[dtype]
    if isinstance(dtype, _dt.DType):
        return dtype
    raise TypeError(f"dtype must be an autograd dtype (e.g. autograd.float32), got {dtype!r}")


def _leaf(data, be, requires_grad):
    t = _wrap(data, be)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _flatten_tensors(obj):
    if isinstance(obj, Tensor):
        return obj.tolist()
    if isinstance(obj, (list, tuple)):
        return [_flatten_tensors(o) for o in obj]
    return obj


def _infer_dtype(obj):
    """PyTorch's inference for Python data: any float -> default dtype, else int64, else bool."""
    kinds = set()
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, (list, tuple)):
            stack.extend(o)
        elif isinstance(o, bool):
            kinds.add("b")
        elif isinstance(o, numbers.Integral):
            kinds.add("i")
        elif isinstance(o, numbers.Real):
            kinds.add("f")
        elif isinstance(o, numbers.Complex):
            raise TypeError("complex numbers are not supported")
        else:
            raise TypeError(f"tensor(): could not infer dtype of {type(o).__name__}")
    if "f" in kinds:
        return _config.dtype
    if "i" in kinds:
        return _dt.int64
    if "b" in kinds:
        return _dt.bool_
    return _config.dtype   # empty list


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new leaf tensor holding a copy of data."""
    if isinstance(data, Tensor):
        src = data.detach()
        be = _backend_for(device) if device is not None else src._backend
        out = src.to(device=be.device_type if device is not None else None)
        arr = be.asarray(out._data, copy=True)
        if dtype is not None:
            arr = be.xp.astype(arr, be.native_dtype(_dtype(dtype)))
        return _leaf(arr, be, requires_grad)
    be = _backend_for(device)
    if hasattr(data, "__array__") or hasattr(data, "__dlpack__"):
        import backends
        src_be = backends.get("cpu")
        host = src_be.asarray(data) if not be.is_array(data) else data
        if not be.is_array(host):
            host = be.asarray(host)
        dt = _dtype(dtype, None) if dtype is not None else be.dtype_of(host)
        arr = be.asarray(host, dtype=be.native_dtype(dt), copy=True)
        return _leaf(arr, be, requires_grad)
    data = _flatten_tensors(data)
    dt = _dtype(dtype, _infer_dtype(data))
    try:
        arr = be.asarray(data, dtype=be.native_dtype(dt), copy=True)
    except (ValueError, TypeError) as e:
        raise ValueError(f"tensor(): could not build a tensor from the data: {e}") from None
    return _leaf(arr, be, requires_grad)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(arr):
    """A CPU tensor sharing memory with a NumPy array."""
    import backends
    be = backends.get("cpu")
    if not be.is_array(arr):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(arr).__name__}")
    return _wrap(arr, be)


def _filled(size, value, dtype, device, requires_grad, default=None):
    be = _backend_for(device)
    dt = _dtype(dtype, default)
    return _leaf(be.xp.full(_size(size), value, dtype=be.native_dtype(dt)), be, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _filled(size, 0, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _filled(size, 1, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    return _filled(size, 0, dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    default = None
    if dtype is None:
        default = _infer_dtype(fill_value.item() if isinstance(fill_value, Tensor) else fill_value)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _filled((size,) if isinstance(size, int) else (tuple(size),), fill_value, dtype, device,
                   requires_grad, default)


def _like(t, dtype, device):
    return (dtype if dtype is not None else t.dtype), (device if device is not None else t.device)


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    dt, dev = _like(t, dtype, device)
    return zeros(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    dt, dev = _like(t, dtype, device)
    return ones(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def empty_like(t, dtype=None, device=None, requires_grad=False):
    return zeros_like(t, dtype, device, requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    dt, dev = _like(t, dtype, device)
    return full(t.shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    be = _backend_for(device)
    dt = _dtype(dtype, _infer_dtype(vals))
    n = max(0, math.ceil((vals[1] - vals[0]) / vals[2]))
    arr = be.xp.arange(n, dtype=be.native_dtype(_dt.float64)) * vals[2] + vals[0]
    return _leaf(be.xp.astype(arr, be.native_dtype(dt)), be, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    be = _backend_for(device)
    dt = _dtype(dtype)
    arr = be.xp.linspace(float(start), float(end), int(steps), dtype=be.native_dtype(_dt.float64))
    return _leaf(be.xp.astype(arr, be.native_dtype(dt)), be, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    be = _backend_for(device)
    dt = _dtype(dtype)
    return _leaf(be.xp.eye(n, m if m is not None else n, dtype=be.native_dtype(dt)), be, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None):
    be = _backend_for(device)
    dt = _dtype(dtype)
    return _leaf(be.uniform(_size(size), 0.0, 1.0, be.native_dtype(dt)), be, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None):
    be = _backend_for(device)
    dt = _dtype(dtype)
    return _leaf(be.normal(_size(size), 0.0, 1.0, be.native_dtype(dt)), be, requires_grad)


def randint(low, high=None, size=None, dtype=None, device=None, requires_grad=False, generator=None):
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: size is required, e.g. randint(10, (3,))")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    be = _backend_for(device)
    dt = _dtype(dtype, _dt.int64)
    return _leaf(be.integers(int(low), int(high), _size((size,) if isinstance(size, int) else (tuple(size),)),
                             be.native_dtype(dt)), be, requires_grad)


def randperm(n, dtype=None, device=None, generator=None):
    be = _backend_for(device)
    dt = _dtype(dtype, _dt.int64)
    return _wrap(be.xp.astype(be.asarray(be.permutation(int(n))), be.native_dtype(dt)), be)


def rand_like(t, dtype=None, device=None, requires_grad=False):
    dt, dev = _like(t, dtype, device)
    return rand(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def randn_like(t, dtype=None, device=None, requires_grad=False):
    dt, dev = _like(t, dtype, device)
    return randn(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def randint_like(t, low, high=None, dtype=None, device=None):
    dt, dev = _like(t, dtype, device)
    return randint(low, high, t.shape, dtype=dt, device=dev)


def set_default_dtype(dtype):
    dtype = _dtype(dtype)
    if not dtype.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {dtype!r}")
    _config.dtype = dtype


def get_default_dtype():
    return _config.dtype


def set_default_device(device):
    d = _dt.device(device if device is not None else "cpu")
    _backend_for(d)      # fail now, not at the first factory call
    _config.device = d


def get_default_device():
    return _config.device
