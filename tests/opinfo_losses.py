"""Registry entries for issue 12's nn.functional losses, distances and layers (kl_div ... ctc_loss,
cosine_similarity, pdist, bilinear, embedding_bag): values, dtypes, shapes, gradients
against torch, gradcheck in float64 (gradgradcheck where smooth), errors where torch raises."""
import numpy as np

from tests.opinfo import C, OpInfo, S, T, arr, fixed

FLOATS2 = ("float64", "float32")
TOL16 = {"float16": (1e-2, 1e-2)}


def _p(shape, dt, seed, lo=0.1, hi=1.0):
    return np.asarray(np.random.default_rng(seed).uniform(lo, hi, shape), dtype=dt)


def _sign(shape, seed):
    return np.where(np.random.default_rng(seed).random(shape) > 0.5, 1.0, -1.0)


def _kl(dt):
    x, y = arr((3, 4), dt, "any", 1), _p((3, 4), dt, 2)
    zero_t = y * (arr((3, 4), dt, "any", 3) > 0)
    out = [S(f"red={r}", x, y, reduction=r) for r in ("mean", "sum", "none", "batchmean")]
    out += [S("log_target", x, np.log(y), reduction="batchmean", log_target=True),
            S("target-zeros", x, C(zero_t), reduction="sum"), S("broadcast", x, C(y[0]), reduction="sum"),
            S("legacy-size_average=False", x, C(y), size_average=False),
            S("legacy-reduce=False", x, C(y), reduce=False), S("0d-batchmean", arr((), dt), C(_p((), dt, 4)),
                                                                   reduction="batchmean"),
            S("bad-reduction", x, C(y), reduction="avg")]
    return out


def _poisson(dt):
    x, t = _p((3, 4), dt, 1, 0.2, 2.0), C(np.floor(_p((3, 4), dt, 2, 0.0, 4.0)))
    return [S("log_input", x, t), S("rate", x, t, log_input=False, reduction="sum"),
            S("full", x, t, full=True, reduction="none"), S("rate-full", x, t, False, True, eps=1e-3),
            S("legacy", x, t, reduce=False), S("bad-reduction", x, t, reduction="x")]


def _gauss(dt):
    x, y, v = arr((3, 4), dt, "any", 1), arr((3, 4), dt, "any", 2), _p((3, 4), dt, 3, 0.3, 2.0)
    return [S("hetero", x, y, v), S("full-sum", x, y, v, full=True, reduction="sum"),
            S("var-one-short", x, y, v[:, 0], reduction="none"), S("var-last-1", x, y, v[:, :1]),
            S("var-bcast-dim0", arr((2, 3, 4), dt, "any", 4), C(arr((2, 3, 4), dt, "any", 5)), _p((2, 1, 4), dt, 6)),
            S("float-var", x, C(y), 0.7),
            S("clamped", x, y, np.array([[0.5, 1e-9, 0.0, 2.0]] * 3, dt), gc=False),
            S("bad-size", x, y, v[:2]), S("negative", x, y, -v), S("negative-float", x, y, -1.0)]


def _cosemb(dt):
    a, b = arr((3, 5), dt, "any", 1), arr((3, 5), dt, "any", 2)
    t = C(np.array([1.0, -1.0, -1.0], dt))
    return [S("mean", a, b, t), S("margin-none", a, b, t, margin=-0.5, reduction="none"),
            S("0d-target", a[0], b[0], C(np.array(-1.0, dt)), margin=-0.9), S("int-target", a, b, np.array([1, -1, 1])),
            S("2d-target", a, b, C(np.ones((3, 1), dt))), S("dims-mismatch", a, b[0], t)]


def _ranking(dt):
    x1, x2 = arr((6,), dt, "any", 1), arr((6,), dt, "any", 2)
    t = C(_sign((6,), 3).astype(dt))
    return [S("default", x1, x2, t), S("margin", x1, x2, t, margin=0.3, reduction="none"),
            S("broadcast", arr((2, 3), dt, "any", 4), arr((1, 3), dt, "any", 5), C(_sign((2, 3), 6).astype(dt)),
              reduction="sum"),
            S("dims-mismatch", arr((2, 3), dt), arr((3,), dt, "any", 2), C(_sign((2, 3), 3).astype(dt)))]


def _hinge(dt):
    x = arr((3, 4), dt, "nonzero", 1)
    return [S("default", x, C(_sign((3, 4), 2).astype(dt))), S("margin-none", x, C(_sign((3, 4), 3).astype(dt)),
                                                                 margin=0.5, reduction="none"),
            S("other-labels", x, C(np.array([1.0, -1.0, 0.0, 2.0], dt)), reduction="sum")]


def _softm(dt):
    x = arr((3, 4), dt, "any", 1)
    return [S("mean", x, C(_sign((3, 4), 2).astype(dt))), S("none", x, C(_sign((3, 4), 3).astype(dt)), reduction="none"),
            S("legacy", x, C(_sign((3, 4), 3).astype(dt)), size_average=False),
            S("shape-mismatch", x, C(_sign((4,), 3).astype(dt)))]


def _mlsm(dt):
    x = arr((3, 4), dt, "any", 1)
    y = C((arr((3, 4), dt, "any", 2) > 0).astype(dt))
    return [S("mean", x, y), S("weight-none", x, y, weight=C(_p((4,), dt, 3)), reduction="none"),
            S("1d", x[0], C(np.array([1.0, 0.0, 0.0, 1.0], dt)), reduction="sum")]


def _mlm(dt):
    x = arr((3, 4), dt, "distinct", 1) * 0.3
    t = np.array([[3, 0, -1, 1], [1, 1, 2, -1], [-1, 1, 2, 3]])
    return [S("mean", x, t), S("none", x, t, reduction="none"), S("1d", x[1], t[1]),
            S("all-listed", x, np.array([[0, 1, 2, 3]] * 3), reduction="sum"),
            S("out-of-range", x, t + 2), S("shape-mismatch", x, t[:, :2]), S("0d", arr((), dt), np.array(0)),
            S("3d", arr((2, 2, 2), dt), np.zeros((2, 2, 2), "int64"))]


def _mm(dt):
    x = arr((3, 4), dt, "distinct", 1) * 0.3
    t = np.array([0, 3, 2])
    w = C(_p((4,), dt, 2))
    return [S("p1", x, t), S("p2-weight", x, t, p=2, margin=0.7, weight=w, reduction="none"),
            S("1d", x[0], np.array(2)), S("1d-target1", x[0], np.array([1]), reduction="sum"),
            S("out-of-range", x, np.array([0, 4, 1])), S("p3", x, t, p=3),
            S("weight-2d", x, t, weight=C(_p((2, 2), dt, 3))), S("0d", arr((), dt), np.array(0)),
            S("3d", arr((2, 2, 2), dt), np.array([0, 1])), S("empty-classes", np.zeros((2, 0), dt), np.array([0, 0]))]


def _l1dist(a, b):
    return (a - b).abs().sum(-1)


def _triplet(dt):
    a, p, n = (arr((3, 4), dt, "any", i) for i in (1, 2, 3))
    return [S("default", a, p, n), S("swap", a, p, n, swap=True, reduction="none"),
            S("l1-fn", a, p, n, distance_function=_l1dist, margin=2.0, reduction="sum"),
            S("margin-0", a, p, n, margin=0.0), S("dims", a, p, n[0])]


def _ctc_data(dt, t=6, n=3, c=5, seed=1):
    x = arr((t, n, c), "float64", "any", seed)
    x = x - np.log(np.exp(x).sum(-1, keepdims=True))            # log-probabilities
    return x.astype(dt)


def _ctc(dt):
    # gc=False: torch's gradient is the true one plus exp(log_probs) (docs/api/nnmisc.md), so finite
    # differences are taken through log_softmax in tests/test_nn_losses_torch.py instead
    lp = _ctc_data(dt)
    tg = np.array([[1, 1, 2], [1, 2, 0], [3, 4, 4]])
    il, tl = np.array([6, 5, 2]), np.array([3, 1, 2])
    ok_tl = np.array([3, 1, 1])
    return [S("padded-none", lp, tg, il, ok_tl, reduction="none", gc=False),
            S("padded-mean", lp, tg, il, ok_tl, gc=False), S("sum-blank4", lp, tg % 4, il, ok_tl, blank=4, reduction="sum", gc=False),
            S("concatenated", lp, np.array([1, 1, 2, 2, 3]), il, np.array([3, 2, 0]), reduction="none", gc=False),
            S("tuple-lengths", lp, tg, (6, 4, 3), (2, 2, 1), gc=False),
            S("impossible", lp, tg, il, tl, reduction="none", gc=False),
            S("zero_infinity", lp, tg, il, tl, zero_infinity=True, reduction="none", gc=False),
            S("zero_infinity-mean", lp, tg, il, tl, zero_infinity=True, gc=False),
            S("unbatched", lp[:, 0], tg[0, :2], np.array(6), np.array(2), reduction="none", gc=False),
            S("input-too-long", lp, tg, np.array([7, 5, 2]), ok_tl),
            S("targets-too-short", lp, tg, il, np.array([4, 1, 1]))]


def _cos(dt):
    a, b = arr((3, 5), dt, "any", 1), arr((3, 5), dt, "any", 2)
    return [S("dim1", a, b), S("broadcast", arr((4, 1, 3), dt, "any", 3), arr((2, 3), dt, "any", 4), dim=-1),
            S("1d-dim0", a[0], b[0], dim=0), S("zero-vector", np.zeros((2, 3), dt), b[:2, :3], gc=False),
            S("eps", a * 1e-3, b, eps=0.5, gc=False), S("T", T(arr((3, 5), dt, "any", 5)), b, dim=1), S("not-broadcastable", a, b[:, :4]),
            S("dim-out-of-range", a[0], b[0]), S("int", np.array([1, 2, 3]), np.array([1, 0, 1]), dim=0)]


def _pdist(dt):
    x = arr((4, 3), dt, "any", 1)
    return [S("p2", x), S("p1", x, p=1), S("p3", x, 3.0), S("pinf", x, p=float("inf")), S("p0", x, p=0, gc=False),
            S("one-row", x[:1]), S("equal-rows", np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 0.0]], dt), gc=False),
            S("1d", x[0]), S("negative-p", x, p=-1.0)]


def _bilinear(dt):
    x1, x2 = arr((4, 3), dt, "any", 1), arr((4, 2), dt, "any", 2)
    w, b = arr((5, 3, 2), dt, "any", 3), arr((5,), dt, "any", 4)
    return [S("bias", x1, x2, w, b), S("no-bias-3d", arr((2, 4, 3), dt, "any", 5), arr((2, 4, 2), dt, "any", 6), w),
            S("1d", x1[0], x2[0], w, b), S("in1-mismatch", x2, x2, w), S("batch-mismatch", x1, x2[:3], w)]


def _bag(dt):
    w = arr((6, 3), dt, "any", 1)
    i = np.array([1, 2, 4, 4, 5, 0, 1])
    off = np.array([0, 2, 2, 5])
    out = [S(f"{m}", i, w, off, mode=m) for m in ("sum", "mean")]
    out += [S("max", i, w * 0 + arr((6, 3), dt, "distinct", 2), off, mode="max"),
            S("2d-mean", i[:6].reshape(2, 3), w),
            S("include_last_offset", i, w, np.array([0, 2, 2, 7]), include_last_offset=True, mode="sum"),
            S("padding_idx-mean", i, w, off, padding_idx=4),
            S("per_sample_weights", i, w, off, mode="sum", per_sample_weights=_p((7,), dt, 3)),
            S("offsets-start-1", i, w, np.array([1, 3])), S("2d-with-offsets", i[:6].reshape(2, 3), w, off[:2]),
            S("1d-no-offsets", i, w), S("psw-mean", i, w, off, per_sample_weights=_p((7,), dt, 3)),
            S("max-scale-grad", i, w, off, mode="max", scale_grad_by_freq=True)]
    return out


def _shuffle(dt):
    return [S("g2", arr((2, 4, 3), dt, "any", 1), 2), S("g3-4d", arr((1, 6, 2, 2), dt, "any", 2), 3),
            S("g1", arr((1, 3, 2), dt, "any", 3), 1), S("indivisible", arr((1, 5, 2), dt), 2),
            S("2d", arr((2, 4), dt), 2)]


def _emb(dt):
    i = np.array([[1, 2, 1], [4, 4, 1]])
    w = arr((6, 3), dt, "any", 1) * 2
    # padding_idx and scale_grad_by_freq change the gradient on purpose (torch's too): no finite differences
    return [S("padding_idx-neg", i, w, padding_idx=-2, gc=False),
            S("scale_grad_by_freq", i, w, scale_grad_by_freq=True, gc=False),
            S("max_norm", i, w, max_norm=1.0, gc=False), S("max_norm-p1", i, w, max_norm=1.5, norm_type=1.0, gc=False),
            S("int32", i.astype("int32"), w)]      # torch's AssertionError for padding_idx: test_nn_layers_torch.py


ENTRIES = [
    OpInfo("F.embedding[options]", ["F.embedding"], fixed(_emb), tol=TOL16),
    OpInfo("F.kl_div", ["F.kl_div"], fixed(_kl), smooth=True, tol=TOL16),
    OpInfo("F.poisson_nll_loss", ["F.poisson_nll_loss"], fixed(_poisson), smooth=True, tol=TOL16),
    OpInfo("F.gaussian_nll_loss", ["F.gaussian_nll_loss"], fixed(_gauss), smooth=True, tol=TOL16),
    OpInfo("F.cosine_embedding_loss", ["F.cosine_embedding_loss"], fixed(_cosemb), tol=TOL16),
    OpInfo("F.margin_ranking_loss", ["F.margin_ranking_loss"], fixed(_ranking), tol=TOL16),
    OpInfo("F.hinge_embedding_loss", ["F.hinge_embedding_loss"], fixed(_hinge), tol=TOL16),
    OpInfo("F.soft_margin_loss", ["F.soft_margin_loss"], fixed(_softm), smooth=True, tol=TOL16),
    OpInfo("F.multilabel_soft_margin_loss", ["F.multilabel_soft_margin_loss"], fixed(_mlsm), smooth=True, tol=TOL16),
    OpInfo("F.multilabel_margin_loss", ["F.multilabel_margin_loss"], fixed(_mlm), tol=TOL16),
    OpInfo("F.multi_margin_loss", ["F.multi_margin_loss"], fixed(_mm), tol=TOL16),
    OpInfo("F.triplet_margin_with_distance_loss", ["F.triplet_margin_with_distance_loss"], fixed(_triplet),
           tol=TOL16),
    # torch's CPU kernel has no float16; its gradient adds exp(log_probs) (see docs/api/nnmisc.md), so
    # gradcheck of the raw log_probs is run through log_softmax in tests/test_nn_losses_torch.py
    OpInfo("F.ctc_loss", ["F.ctc_loss"], fixed(_ctc), dtypes=FLOATS2, tol={"float32": (1e-4, 1e-5)}),
    OpInfo("F.cosine_similarity", ["F.cosine_similarity"], fixed(_cos), smooth=True, tol=TOL16),
    OpInfo("F.pdist", ["F.pdist"], fixed(_pdist), tol=TOL16),
    OpInfo("F.bilinear", ["F.bilinear"], fixed(_bilinear), smooth=True, tol=TOL16),
    OpInfo("F.embedding_bag", ["F.embedding_bag"], fixed(_bag), tol=TOL16),
]
