"""Tensor factories, PyTorch's names and dtype rules (Python floats become the default dtype)."""
from __future__ import annotations

import math
import numbers

from backends import dtypes as _dt

from . import random as _random
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
    if isinstance(dtype, str) and dtype in _dt.BY_NAME:
        return _dt.BY_NAME[dtype]
    if isinstance(dtype, _dt.DType):
        return dtype
    raise TypeError(f"dtype must be an autograd dtype (e.g. autograd.float32), got {dtype!r}; tapegrad has "
                    "float16/32/64, uint8, int8/16/32/64 and bool (no complex or bfloat16)")


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
    inferred = _infer_dtype(data)
    dt = _dtype(dtype, inferred)
    try:
        if dt.category == 1:
            arr = _int_array(be, data, dt, inferred.is_floating_point, "tensor()")
        else:
            arr = be.asarray(data, dtype=be.native_dtype(dt), copy=True)
    except (ValueError, TypeError) as e:
        raise ValueError(f"tensor(): could not build a tensor from the data: {e}") from None
    return _leaf(arr, be, requires_grad)


def _int_range(dt, from_float):
    """The values PyTorch's checked conversion accepts for integer dtype dt: its range, and for an
    unsigned dtype also negative ints down to -max (they wrap: tensor([-1], dtype=uint8) is 255)."""
    return (dt.min if dt.is_signed or from_float else -dt.max), dt.max


def _int_array(be, data, dt, floats, name):
    """Python data as an integer array of dtype dt: staged at int64 (or float64 for floats),
    range-checked as PyTorch does, then cast (wrapping, truncating toward zero)."""
    xp = be.xp
    stage = _dt.float64 if floats else _dt.int64
    try:
        arr = be.asarray(data, dtype=be.native_dtype(stage), copy=True)
    except OverflowError:
        raise RuntimeError(f"{name}: Overflow when unpacking long long: a value does not fit in int64") from None
    if stage is dt:
        return arr
    if arr.size == 0:
        return xp.astype(arr, be.native_dtype(dt))
    lo, hi = _int_range(dt, floats)
    if floats:
        bad = bool(xp.any(xp.isnan(arr))) or bool(xp.any(arr < lo)) or bool(xp.any(arr > hi))
    else:
        bad = bool(xp.any(arr < lo)) or bool(xp.any(arr > hi))
    if bad:
        raise RuntimeError(f"{name}: value cannot be converted to type {dt.name} without overflow "
                           f"(accepted: {lo} to {hi})")
    return xp.astype(arr, be.native_dtype(dt))


def _fill_value(value, dt, name):
    """A Python number converted to dtype dt with PyTorch's checks (full(), full_like())."""
    import math
    if dt is _dt.bool_:
        return bool(value)
    if dt.is_floating_point:
        value = float(value)
        if math.isfinite(value) and abs(value) > dt.max:
            raise RuntimeError(f"{name}: value {value} cannot be converted to type {dt.name} without overflow")
        return value
    floats = isinstance(value, float)
    lo, hi = _int_range(dt, floats)
    if (floats and not math.isfinite(value)) or not lo <= value <= hi:
        raise RuntimeError(f"{name}: value {value} cannot be converted to type {dt.name} without overflow")
    return _dt.wrap_int(int(value), dt)  # int(): toward zero, as a C++ cast


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
    """A tensor filled with fill_value; its dtype inferred as PyTorch does (7 -> int64, True -> bool,
    7.0 -> the default float)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if not isinstance(fill_value, numbers.Real):
        raise TypeError(f"full(): fill_value must be a number, got {type(fill_value).__name__}")
    dt = _dtype(dtype, _infer_dtype(fill_value))
    fill_value = _fill_value(fill_value, dt, "full")
    return _filled((size,) if isinstance(size, int) else (tuple(size),), fill_value, dt, device,
                   requires_grad)


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
    """Values from start (inclusive) to end (exclusive) by step. Integer dtypes are computed in
    integers (exact beyond 2**53); any float argument makes the default float dtype."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    for v in vals:
        if not isinstance(v, numbers.Real):
            raise TypeError(f"arange(): start, end and step must be numbers, got {type(v).__name__}")
    s, e, st = vals
    if st == 0:
        raise RuntimeError("arange: step must be nonzero")
    if not (math.isfinite(s) and math.isfinite(e)):
        raise RuntimeError(f"arange: unsupported range: {s} -> {e}")
    if not ((st > 0 and e >= s) or (st < 0 and e <= s)):
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign "
                           f"(start={s}, end={e}, step={st})")
    be = _backend_for(device)
    floats = any(isinstance(v, float) or not isinstance(v, numbers.Integral) for v in vals)
    dt = _dtype(dtype, _config.dtype if floats else _dt.int64)
    xp = be.xp
    if dt.is_floating_point:
        n = math.ceil((e - s) / st)
        arr = xp.arange(n, dtype=be.native_dtype(_dt.float64)) * st + s       # PyTorch: start + step * i
        return _leaf(xp.astype(arr, be.native_dtype(dt)), be, requires_grad)
    si, ei, sti = int(s), int(e), int(st)          # as PyTorch: truncated toward zero
    if sti == 0:
        raise ValueError(f"arange: step must be nonzero (step {st} truncates to 0 for {dt.name})")
    # int64 sizes come from the truncated ints; other integer dtypes' from the original numbers
    n = -((si - ei) // sti) if dt is _dt.int64 else math.ceil((e - s) / st)
    i64 = be.native_dtype(_dt.int64)
    arr = xp.arange(max(n, 0), dtype=i64) * xp.asarray(sti, dtype=i64) + xp.asarray(si, dtype=i64)
    return _leaf(xp.astype(arr, be.native_dtype(dt)), be, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """steps values from start to end inclusive, in the default float dtype unless dtype is given
    (integer dtypes truncate, as PyTorch)."""
    if isinstance(steps, Tensor):
        steps = steps.item()
    if not isinstance(steps, numbers.Integral) or isinstance(steps, bool):
        raise TypeError(f"linspace(): steps must be an int, got {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative (got {steps})")
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    be = _backend_for(device)
    dt = _dtype(dtype)
    xp = be.xp
    f64 = be.native_dtype(_dt.float64)
    if dt.is_floating_point or steps < 2:
        arr = xp.linspace(float(start), float(end), int(steps), dtype=f64)
    else:             # PyTorch's integer kernel: from the nearer end, in double, then truncated
        step = (float(end) - float(start)) / (steps - 1)
        i = xp.arange(steps, dtype=f64)
        arr = xp.where(i < steps // 2, float(start) + step * i, float(end) - step * (steps - 1 - i))
    return _leaf(xp.astype(arr, be.native_dtype(dt)), be, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    be = _backend_for(device)
    dt = _dtype(dtype)
    return _leaf(be.xp.eye(n, m if m is not None else n, dtype=be.native_dtype(dt)), be, requires_grad)


def _floating_only(dt, name):
    if not dt.is_floating_point:
        raise NotImplementedError(f"{name}: not implemented for {dt.name} (random floats need a floating "
                                  f"point dtype; use randint for integers)")


# --- random factories: draws from `generator` (or the device's default), see autograd/random.py ---

def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """Uniform on [0, 1), on the dtype's grid (never 1, even in float16)."""
    be = _backend_for(device)
    dt = _dtype(dtype)
    _floating_only(dt, "rand")
    rng = _random.generator_rng(generator, be, "rand")
    return _leaf(_random.cast(be, _random.uniform01(be, rng, _size(size), dt), dt), be, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """Standard normal."""
    be = _backend_for(device)
    dt = _dtype(dtype)
    _floating_only(dt, "randn")
    rng = _random.generator_rng(generator, be, "randn")
    return _leaf(_random.cast(be, be.rng_normal(rng, _size(size)), dt), be, requires_grad)


def _int_arg(v, name, what):
    if isinstance(v, Tensor):
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{name}(): argument '{what}' must be int, not {type(v).__name__}")
    return int(v)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers uniform on [low, high), as dtype (int64 by default; floats and bool allowed, as torch)."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint(): size is required, e.g. randint(10, (3,)) or randint(0, 10, (3,))")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    low, high = _int_arg(low, "randint", "low"), _int_arg(high, "randint", "high")
    be = _backend_for(device)
    dt = _dtype(dtype, _dt.int64)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    _random.int_bounds(dt, low, high - 1, "randint")
    rng = _random.generator_rng(generator, be, "randint")
    shape = _size((size,) if isinstance(size, int) else (tuple(size),))
    t = _leaf(_random.cast(be, _random.integers(be, rng, low, high - 1, shape), dt), be, False)
    if requires_grad:
        t.requires_grad_(True)             # refused for integer dtypes, as torch
    return t


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A random permutation of 0 .. n-1 (int64 by default)."""
    n = _int_arg(n, "randperm", "n")
    if n < 0:
        raise RuntimeError(f"randperm: Trying to create tensor with negative dimension {n}: [{n}]")
    be = _backend_for(device)
    dt = _dtype(dtype, _dt.int64)
    if dt is _dt.bool_:
        raise NotImplementedError("randperm: not implemented for bool")
    if n > 0:
        hi = 2 ** _random._DIGITS[dt.itemsize] if dt.is_floating_point else dt.max
        if n - 1 > hi:
            raise RuntimeError(f"randperm: n = {n} is too large for {dt.name}: value cannot be converted "
                               f"to type {dt.name} without overflow")
    rng = _random.generator_rng(generator, be, "randperm")
    t = _leaf(_random.cast(be, be.rng_permutation(rng, n), dt), be, False)
    if requires_grad:
        t.requires_grad_(True)
    return t


def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False, memory_format=None):
    dt, dev = _like(input, dtype, device)
    _floating_only(_dtype(dt), "rand_like")
    return rand(input.shape, generator=generator, dtype=dt, device=dev, requires_grad=requires_grad)


def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False, memory_format=None):
    dt, dev = _like(input, dtype, device)
    _floating_only(_dtype(dt), "randn_like")
    return randn(input.shape, generator=generator, dtype=dt, device=dev, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, device=None, requires_grad=False,
                 memory_format=None):
    dt, dev = _like(input, dtype, device)
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, generator=generator, dtype=dt, device=dev,
                   requires_grad=requires_grad)


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


def _tri_indices(row, col, offset, dtype, device, lower):
    be = _backend_for(device)
    xp = be.xp
    i64 = be.native_dtype(_dt.int64)
    r = xp.reshape(xp.arange(max(int(row), 0), dtype=i64), (-1, 1))
    c = xp.reshape(xp.arange(max(int(col), 0), dtype=i64), (1, -1))
    mask = (c - r <= offset) if lower else (c - r >= offset)
    rows, cols = xp.nonzero(mask)
    return _wrap(xp.astype(xp.stack((rows, cols), axis=0), be.native_dtype(_dtype(dtype, _dt.int64))), be)


def _check_tri(name, row, col):
    if row < 0 or col < 0:
        raise RuntimeError(f"{name}: row and col must be non-negative, got row={row}, col={col}")


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) row and column indices of the lower triangle of a row x col matrix (torch's order)."""
    _check_tri("tril_indices", row, col)
    return _tri_indices(row, col, offset, dtype, device, True)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) row and column indices of the upper triangle of a row x col matrix (torch's order)."""
    _check_tri("triu_indices", row, col)
    return _tri_indices(row, col, offset, dtype, device, False)


def from_dlpack(ext_tensor):
    """A tensor sharing ext_tensor's memory (any object with __dlpack__: NumPy, CuPy, torch, ...), zero copy:
    on the default device's backend when the data is on that kind of device, else on cpu / cuda."""
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    if not hasattr(ext_tensor, "__dlpack__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__, got {type(ext_tensor).__name__}")
    kind, index = ext_tensor.__dlpack_device__() if hasattr(ext_tensor, "__dlpack_device__") else (1, 0)
    kind = int(kind)
    if kind == 1:                                   # kDLCPU
        dev = _config.device if _backend_for(None).device_type in ("cpu", "array_api_strict") else "cpu"
    elif kind in (2, 3):                            # kDLCUDA, kDLCUDAHost
        dev = _dt.device("cuda", int(index)) if kind == 2 else "cpu"
    else:
        raise RuntimeError(f"from_dlpack: unsupported DLPack device type {kind}")
    be = _backend_for(dev)
    return _wrap(be.from_dlpack(ext_tensor), be)
