"""Registry entries for nn.functional's activations (issue 12): values, dtypes, shapes, gradients against
torch, gradcheck in float64 and gradgradcheck where smooth, errors where torch raises."""
import numpy as np

from tests.opinfo import C, FLOATS, OpInfo, S, arr, fixed, unary


def _u(name, smooth=False, kws=(), dom=None):
    return OpInfo(name, [f"F.{name}"], unary(dom or ("any" if smooth else "nonzero"), kws), smooth=smooth)


def _glu(dt):
    return [S("last", arr((2, 4), dt, "any", 1)), S("dim0", arr((4, 3), dt, "any", 2), dim=0),
            S("3d", arr((2, 6, 2), dt, "any", 3), dim=1), S("odd", arr((2, 3), dt, "any", 4), gc=False)]


def _softmin(dt):
    return [S("dim1", arr((2, 3), dt, "any", 1), dim=1), S("dim0", arr((3, 2), dt, "any", 2), dim=0),
            S("0d", arr((), dt, "any", 3), dim=0), S("neg", arr((2, 3, 4), dt, "any", 4), dim=-1)]


def _prelu(dt):
    return [S("shared", arr((2, 3, 4), dt, "nonzero", 1), arr((1,), dt, "any", 2)),
            S("channels", arr((2, 3, 4), dt, "nonzero", 3), arr((3,), dt, "any", 4)),
            S("2d", arr((4, 3), dt, "nonzero", 5), arr((3,), dt, "any", 6)),
            S("1d", arr((5,), dt, "nonzero", 7), arr((1,), dt, "any", 8)),
            S("mismatch", arr((2, 3), dt, "nonzero", 9), arr((2,), dt, "any", 10), gc=False)]


def _threshold(dt):
    x = arr((2, 5), dt, "nonzero", 1)
    return [S("t0", x, 0.3, -1.0), S("t-neg", arr((3, 4), dt, "nonzero", 2), -0.2, 5.0),
            S("0d", arr((), dt, "nonzero", 3), 0.1, 2.0)]


ENTRIES = [
    _u("relu6"), _u("hardtanh", kws=({"min_val": -0.5, "max_val": 2.0},)), _u("hardswish"), _u("hardsigmoid"),
    _u("hardshrink", kws=({"lambd": 0.3},)), _u("softshrink", kws=({"lambd": 0.3},)),
    _u("tanhshrink", smooth=True), _u("softsign"), _u("selu"), _u("celu", kws=({"alpha": 0.7},)),
    _u("rrelu", kws=({"lower": 0.2, "upper": 0.4},)),        # eval mode: the mean slope, deterministic
    OpInfo("threshold", ["F.threshold"], fixed(_threshold)),
    OpInfo("glu", ["F.glu"], fixed(_glu), smooth=True),
    OpInfo("softmin", ["F.softmin"], fixed(_softmin), smooth=True),
    OpInfo("prelu", ["F.prelu"], fixed(_prelu)),
]

_NAN = ("issue 12 #activations, deliberate (README porting guide): at a nan input torch 2.13's float32/float16 "
        "backward kernels pass the gradient through, its float64 kernel gives 0; ours gives 0 on every dtype")
KNOWN = {(op, f"{dt}/{s}", "grad"): _NAN for op, samples in [
    ("relu6", ("extreme",)), ("hardtanh", ("extreme", "extreme-min_val=-0.5,max_val=2.0")),
    ("hardshrink", ("extreme", "extreme-lambd=0.3")), ("softshrink", ("extreme", "extreme-lambd=0.3"))]
    for dt in ("float32", "float16") for s in samples}
