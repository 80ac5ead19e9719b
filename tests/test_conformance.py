"""Every registry entry (tests/opinfo.py) checked against PyTorch 2.13 on the test's backend.

One test per (op, dtype). For each sample, torch runs first on the CPU; then:
  error          where torch raises, ours raises RuntimeError/ValueError/TypeError/IndexError naming the op
  forward        where torch computes, ours does too
  warning        no Python/NumPy warning escapes our forward or backward (torch is silent)
  shape, dtype, value   every output: exact shape tuple (on the test's device), dtype by name, values
                 (NaN where torch has NaN)
  grad           the same weighted backward in both: each input's gradient (shape, dtype, values)
  gradcheck      float64 only, small samples without kinks or extremes: finite differences
  gradgradcheck  the same, for entries marked smooth
  call <label>   each further way to call the op (method, alias, F.*) gives the same shape/dtype/values
A failing check listed in opinfo.KNOWN is expected and must keep failing; all other failures of one
(op, dtype) are reported together in one assertion, each as a line to paste into KNOWN if it is a
known divergence. The run's count of compared op x sample x check combinations is printed at the end:
at this commit 165 entries, 585 (op, dtype) tests, 4,929 samples; 30,115 combinations on numpy (955 of
them KNOWN divergences) and 23,301 on array_api_strict (847), which has no float16; about 15 s and 27 s
of CPU on this machine.
"""
from __future__ import annotations

import fnmatch
import inspect
import re
import operator
import warnings

import numpy as np
import pytest

import autograd as ag
import nn.functional as agF
from tests.opinfo import KNOWN, NON_OPS, REGISTRY, C, D, V

torch = pytest.importorskip("torch", reason="PyTorch is the oracle of the conformance registry and is not installed")
tF = torch.nn.functional

ERRORS = (RuntimeError, ValueError, TypeError, IndexError)
# (rtol, atol) for values and gradients; an entry's `tol` overrides per dtype
TOL = {"float64": (1e-7, 1e-10), "float32": (1.3e-6, 1e-5), "float16": (2e-3, 1e-3)}
GRAD_TOL = {"float64": (1e-6, 1e-9), "float32": (1e-4, 1e-5), "float16": (1e-2, 1e-2)}
GRADCHECK_MAX = 30       # gradcheck's cost grows with inputs x outputs: only samples this small
STATS = {"compared": 0, "known": 0, "tests": 0, "ran": set(), "matched": set()}


# ------------------------------------------------------------------------------------------------
# resolving calls and building arguments on each side

class _Side:
    def __init__(self, torch_side, device):
        self.torch = torch_side
        self.device = device
        self.t, self.F = (torch, tF) if torch_side else (ag, agF)

    def resolve(self, path):
        ns, _, name = path.partition(".")
        if ns == "autograd":
            return getattr(self.t, name)
        if ns == "F":
            return getattr(self.F, name)
        if ns == "operator":
            return getattr(operator, name)
        if ns == "Tensor":
            return lambda x, *a, **k: getattr(x, name)(*a, **k)
        raise ValueError(f"opinfo: call path {path!r} must start with autograd., F., Tensor. or operator.")

    def tensor(self, a, grad):
        a = np.asarray(a)
        if self.torch:
            t = torch.from_numpy(a.copy())
            return t.requires_grad_() if grad else t
        return ag.tensor(a, device=self.device, requires_grad=grad)

    def dtype(self, name):
        return getattr(self.t, name)


def _call(c, side):
    """The callable for Call/str `c` on one side, and its label."""
    if isinstance(c, str):
        ours, _, theirs = c.partition("=")
        path = (theirs or ours) if side.torch else ours
        try:
            return side.resolve(path), ours
        except AttributeError as e:
            if side.torch:
                raise
            return _missing(path, e), ours
    fn = c.ours if not side.torch or c.theirs is None else c.theirs
    return (side.resolve(fn) if isinstance(fn, str) else fn), c.label


def _missing(path, err):
    def fn(*args, **kwargs):
        raise AttributeError(f"{path} does not exist ({err})")
    return fn


def _build(obj, side, grad, leaves, given=None):
    """Sample arguments -> tensors on `side`; float leaves require grad (or are taken from `given`)."""
    if isinstance(obj, np.ndarray) or isinstance(obj, V):
        a = obj.a if isinstance(obj, V) else obj
        floating = a.dtype.kind == "f"
        if floating and grad:
            t = given[len(leaves)] if given is not None else side.tensor(a, True)
            leaves.append(t)
        else:
            t = side.tensor(a, False)
        return obj.view(t) if isinstance(obj, V) else t
    if isinstance(obj, C):
        return side.tensor(obj.a, False)
    if isinstance(obj, D):
        return side.dtype(obj.name)
    if isinstance(obj, list):
        return [_build(v, side, grad, leaves, given) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_build(v, side, grad, leaves, given) for v in obj)
    if isinstance(obj, dict):
        return {k: _build(v, side, grad, leaves, given) for k, v in obj.items()}
    return obj


def _args(sample, side, grad, given=None):
    leaves = []
    args = _build(sample.args, side, grad, leaves, given)
    kwargs = _build(sample.kwargs, side, grad, leaves, given)
    return args, kwargs, leaves


def _outputs(out):
    """Flatten an op's result (tensor, tuple, namedtuple, list, Python value) into a list."""
    if isinstance(out, (tuple, list)) and not all(isinstance(v, int) for v in out):   # a shape is one value
        return [o for v in out for o in _outputs(v)]
    return [out]


def _is_t(x):
    return isinstance(x, (ag.Tensor, torch.Tensor))


def _np(x):
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return np.asarray(x.detach().cpu())


def _dtname(x):
    return x.dtype.name if isinstance(x, ag.Tensor) else str(x.dtype).removeprefix("torch.")


# ------------------------------------------------------------------------------------------------
# comparing

def _compare(ours, theirs, tol, device):
    """Failed checks (check -> message) between our and torch's flattened outputs (ours on `device`)."""
    fails = {}
    if len(ours) != len(theirs):
        return {"shape": f"{len(ours)} outputs, torch {len(theirs)}"}
    for i, (o, t) in enumerate(zip(ours, theirs)):
        where = f"output {i}: " if len(ours) > 1 else ""
        if not _is_t(t):
            ov = tuple(o) if isinstance(o, (tuple, ag.Size)) else o
            tv = tuple(t) if isinstance(t, (tuple, torch.Size)) else t
            if type(ov) is not type(tv) or ov != tv:
                fails.setdefault("value", f"{where}{o!r} ({type(o).__name__}), torch {t!r} ({type(t).__name__})")
            continue
        if not isinstance(o, ag.Tensor):
            fails.setdefault("shape", f"{where}got {type(o).__name__} {o!r}, torch a tensor")
            continue
        if tuple(o.shape) != tuple(t.shape):
            fails.setdefault("shape", f"{where}shape {tuple(o.shape)}, torch {tuple(t.shape)}")
        if o.device != ag.device(device):
            fails.setdefault("shape", f"{where}result on {o.device}, expected {device}")
        if _dtname(o) != _dtname(t):
            fails.setdefault("dtype", f"{where}dtype {_dtname(o)}, torch {_dtname(t)}")
        if tuple(o.shape) == tuple(t.shape):
            msg = _values_differ(_np(o), _np(t), *tol.get(_dtname(t), (0, 0)))
            if msg:
                fails.setdefault("value", where + msg)
    return fails


def _values_differ(a, b, rtol, atol):
    a = np.asarray(a)
    b = np.asarray(b)
    if b.dtype.kind != "f":
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            return f"{a.ravel()[:6]} vs torch {b.ravel()[:6]}"
        ok = a.astype(np.float64) == b.astype(np.float64) if a.size else np.ones(0, bool)
    else:
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            ok = np.isclose(a64, b64, rtol=rtol, atol=atol, equal_nan=True)
    if np.all(ok):
        return None
    idx = np.argwhere(~np.asarray(ok).reshape(a.shape))[:3]
    pairs = ", ".join(f"{tuple(int(v) for v in ix)}: {a[tuple(ix)]!r} vs {b[tuple(ix)]!r}" for ix in idx)
    return f"{int((~ok).sum())} of {a.size} differ (ours vs torch) {pairs}"


# ------------------------------------------------------------------------------------------------
# running one sample

class _Report:
    def __init__(self, info, dt, device):
        self.info, self.dt, self.device = info, dt, device
        self.unexpected = []

    def known(self, sid, check):
        for key in KNOWN:
            op, pat, chk = key[:3]
            if (op == self.info.name and chk == check and fnmatch.fnmatchcase(sid, pat)
                    and (len(key) < 4 or key[3] == self.device)):
                return key
        return None

    def check(self, sid, check, failure):
        """Record one compared combination: `failure` is None (passed) or a message."""
        STATS["compared"] += 1
        key = self.known(sid, check)
        if key is not None:
            STATS["matched"].add(key)
            if failure is None:
                self.unexpected.append(f"fixed: remove from KNOWN {key!r}: {KNOWN[key]}")
            else:
                STATS["known"] += 1
        elif failure is not None:
            self.unexpected.append(f"    ({self.info.name!r}, {sid!r}, {check!r}): {failure!s:.300}")


def _run_sample(info, s, dt, device, rep):
    sid = f"{dt}/{s.id}"
    ours_side, torch_side = _Side(False, device), _Side(True, device)
    diff = info.grad and dt.startswith("float")
    fn_t, _ = _call(info.calls[0], torch_side)
    fn_o, _ = _call(info.calls[0], ours_side)

    targs, tkw, tleaves = _args(s, torch_side, diff)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # torch's own deprecation notes are not under test
            tout = fn_t(*targs, **tkw)
    except Exception as e:  # noqa: BLE001 - torch's refusal is the spec
        if "not implemented for" in str(e):
            return                                   # torch lacks a kernel for this dtype: no spec
        oargs, okw, _ = _args(s, ours_side, diff)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = fn_o(*oargs, **okw)
        except ERRORS as oe:
            words = info.error_words()
            named = any(w.lower() in str(oe).lower() for w in words)
            rep.check(sid, "error", None if named else
                      f"{type(oe).__name__}: {oe!s:.150} does not name the op ({' or '.join(words)}); "
                      f"torch: {type(e).__name__}: {e!s:.100}")
        except Exception as oe:  # noqa: BLE001
            rep.check(sid, "error", f"raised {type(oe).__name__}: {oe!s:.150}; torch raises {type(e).__name__}: {e!s:.100}")
        else:
            shape = getattr(out, "shape", None)
            rep.check(sid, "error", f"returned {type(out).__name__} {tuple(shape) if shape is not None else ''}; "
                                    f"torch raises {type(e).__name__}: {e!s:.150}")
        return

    oargs, okw, oleaves = _args(s, ours_side, diff)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = fn_o(*oargs, **okw)
        except Exception as e:  # noqa: BLE001
            rep.check(sid, "forward", f"raised {type(e).__name__}: {e!s:.200}")
            return
        rep.check(sid, "forward", None)
        touts, oouts = _outputs(tout), _outputs(out)
        tol = {**TOL, **info.tol}
        fails = _compare(oouts, touts, tol, device)
        for check in ("shape", "dtype", "value"):
            rep.check(sid, check, fails.get(check))
        if diff:
            _check_grad(info, sid, touts, oouts, tleaves, oleaves, dt, rep)
    rep.check(sid, "warning", "; ".join(sorted({f"{w.category.__name__}: {w.message}" for w in caught})) or None)

    for c in info.calls[1:]:
        _check_other_call(c, s, sid, touts, device, tol, rep)

    if diff and dt == "float64" and s.gradcheck and oleaves and "shape" not in fails:
        n_in = sum(t.numel() for t in oleaves)
        n_out = sum(o.numel() for o in oouts if isinstance(o, ag.Tensor))
        tdiff = [t for t in touts if isinstance(t, torch.Tensor) and t.requires_grad]
        # finite differences need float64 outputs too (a cast to float32 cannot pass them)
        if 0 < n_in <= GRADCHECK_MAX and 0 < n_out <= GRADCHECK_MAX and tdiff and all(
                t.dtype == torch.float64 for t in tdiff):
            _gradchecks(info, s, sid, fn_o, ours_side, rep)


def _check_grad(info, sid, touts, oouts, tleaves, oleaves, dt, rep):
    tdiff = [t for t in touts if isinstance(t, torch.Tensor) and t.requires_grad]
    if not tdiff:
        return
    odiff = [o for o, t in zip(oouts, touts) if isinstance(t, torch.Tensor) and t.requires_grad]
    if not all(isinstance(o, ag.Tensor) and o.requires_grad for o in odiff):
        rep.check(sid, "grad", "output does not require grad; torch's does (its gradient is defined)")
        return
    # the same cos-weighted sum on both sides; autograd.grad with these weights is the backward proper
    tw = [torch.from_numpy(np.cos(np.arange(t.numel())).reshape(tuple(t.shape)).astype(_np(t).dtype)) for t in tdiff]
    try:
        torch.autograd.backward(tdiff, tw)
    except RuntimeError:
        return                                          # torch cannot differentiate this sample
    try:
        ag.backward(odiff, [ag.tensor(w.numpy(), device=o.device) for o, w in zip(odiff, tw)])
    except Exception as e:  # noqa: BLE001
        rep.check(sid, "grad", f"backward raised {type(e).__name__}: {e!s:.200}")
        return
    msgs = []
    rtol, atol = GRAD_TOL.get(dt, (0, 0)) if dt not in info.tol else info.tol[dt]
    for i, (tl, ol) in enumerate(zip(tleaves, oleaves)):
        tg, og = tl.grad, ol.grad
        if og is not None and (tuple(og.shape) != tuple(ol.shape) or og.dtype is not ol.dtype or og.device != ol.device):
            msgs.append(f"input {i}: gradient {tuple(og.shape)} {og.dtype.name} on {og.device}, input "
                        f"{tuple(ol.shape)} {ol.dtype.name} on {ol.device}")
            continue
        a = np.zeros(tuple(tl.shape)) if og is None else _np(og)
        b = np.zeros(tuple(tl.shape)) if tg is None else _np(tg)
        m = _values_differ(a, b, max(rtol, GRAD_TOL[dt][0]), max(atol, GRAD_TOL[dt][1]))
        if m:
            msgs.append(f"input {i}: {m}")
    rep.check(sid, "grad", "; ".join(msgs) or None)


def _check_other_call(c, s, sid, touts, device, tol, rep):
    fn_t, label = _call(c, _Side(True, device))
    fn_o, _ = _call(c, _Side(False, device))
    targs, tkw, _ = _args(s, _Side(True, device), False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = _outputs(fn_t(*targs, **tkw))
    except Exception:  # noqa: BLE001 - this spelling does not take this sample in torch
        return
    oargs, okw, _ = _args(s, _Side(False, device), False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = _outputs(fn_o(*oargs, **okw))
    except Exception as e:  # noqa: BLE001
        rep.check(sid, f"call {label}", f"raised {type(e).__name__}: {e!s:.200}")
        return
    fails = _compare(got, ref, tol, device)
    rep.check(sid, f"call {label}", "; ".join(f"{k}: {v}" for k, v in fails.items()) or None)


def _has_nan(out):
    outs = out if isinstance(out, tuple) else (out,)
    return any(isinstance(o, ag.Tensor) and o.dtype.is_floating_point and bool(o.detach().isnan().any())
               for o in outs)


def _gradchecks(info, s, sid, fn_o, side, rep):
    leaves0 = _args(s, side, True)[2]

    def f(*leaves):
        args, kw, _ = _args(s, side, True, given=list(leaves))
        return fn_o(*args, **kw)
    checks = [("gradcheck", ag.gradcheck)] + ([("gradgradcheck", ag.gradgradcheck)] if info.smooth else [])
    if info.smooth and _has_nan(f(*leaves0)):
        # finite differences through a nan output (var of one element) compare nan with the analytic
        # value: meaningless for gradgradcheck (torch's fails the same way), so it is not run
        checks = checks[:1]
    for name, check in checks:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                check(f, tuple(leaves0))
                rep.check(sid, name, None)
            except Exception as e:  # noqa: BLE001
                rep.check(sid, name, f"{type(e).__name__}: {e!s:.250}")


# ------------------------------------------------------------------------------------------------
# the tests

def _float16_refused(device):
    try:
        ag.tensor(np.zeros(1, np.float16), device=device)
        return None
    except TypeError as e:
        return str(e)


CASES = [(info, dt) for info in REGISTRY for dt in info.dtypes]


@pytest.mark.parametrize("info,dt", CASES, ids=[f"{i.name}-{dt}" for i, dt in CASES])
def test_op_matches_torch(info, dt, device):
    STATS["tests"] += 1
    if dt == "float16" or info.makes_float16:
        why = _float16_refused(device)
        if why:
            pytest.skip(f"the {device} backend rejects float16 (the array API standard has no float16): {why}")
    STATS["ran"].add((info.name, dt))
    rep = _Report(info, dt, device)
    with np.errstate(divide="warn", over="warn", invalid="warn", under="ignore"):   # NumPy's defaults
        for s in info.samples(dt):
            _run_sample(info, s, dt, device, rep)
    if rep.unexpected:
        pytest.fail(f"{info.name} [{dt}] on {device}: {len(rep.unexpected)} unexpected result(s) "
                    f"(a KNOWN line is (op, 'dtype/sample', check)):\n" + "\n".join(rep.unexpected), pytrace=False)


def test_every_public_op_has_an_entry():
    covered = set()
    for info in REGISTRY:
        for c in info.calls:
            label = c.partition("=")[0] if isinstance(c, str) else c.label
            covered.add(label)
    # an alias (autograd.clip) or an in-place function (autograd.clamp_) declared with @op is covered
    # by its op's entry: tests/test_registry.py checks that they are the same function / in place
    from autograd.ops import OPS
    same_op = {}
    for d in OPS.values():
        for n in (d.name,) + d.aliases:
            same_op[n] = d.name
        for n in d.inplace_fns:
            same_op[n] = d.name
    missing = []
    for prefix, mod in (("autograd", ag), ("F", agF)):
        for name in dir(mod):
            obj = getattr(mod, name)
            if name.startswith("_") or not callable(obj) or inspect.ismodule(obj) or name in NON_OPS:
                continue
            base = same_op.get(name) if prefix == "autograd" else None
            if f"{prefix}.{name}" not in covered and not (base and f"autograd.{base}" in covered):
                missing.append(f"{prefix}.{name}")
    assert not missing, f"public ops without a registry entry in tests/opinfo.py (or list them in NON_OPS): {missing}"


def test_registry_is_well_formed():
    names = [i.name for i in REGISTRY]
    assert len(names) == len(set(names)), "one entry per op"
    for info in REGISTRY:
        for dt in info.dtypes:
            ids = [s.id for s in info.samples(dt)]
            assert len(ids) == len(set(ids)), f"{info.name} [{dt}]: sample ids repeat"
    for key, why in KNOWN.items():
        assert key[0] in names, f"KNOWN {key}: no entry named {key[0]!r}"
        assert re.search(r"issue 1\d #", why), f"KNOWN {key}: say which issue item it is ('issue 11 #sorting: ...')"


def test_known_entries_all_still_occur(device):
    """Runs last: a KNOWN key that matched no check of this run is stale (only after a full run)."""
    if STATS["tests"] < len(CASES):
        pytest.skip("only a part of the registry ran (-k or -x): stale KNOWN entries are not judged")
    stale = []
    for key in KNOWN:
        if len(key) > 3 and key[3] != device:
            continue
        dtpat = key[1].split("/")[0]
        if not any(op == key[0] and fnmatch.fnmatchcase(dt, dtpat) for op, dt in STATS["ran"]):
            continue                                        # e.g. float16 on a backend without it
        if key not in STATS["matched"]:
            stale.append(key)
    assert not stale, f"KNOWN entries that match no check any more (remove them): {stale}"
