"""nn.MultiheadAttention, TransformerEncoder/Decoder(Layer) and Transformer against torch 2.13 on the test's
backend: forward values and exact shapes, attention weights, gradients of the inputs and every parameter
(torch's weights copied into ours), masks (bool / float, key padding, causal, fully masked rows),
state_dict both ways, init, repr, train/eval, errors, and gradcheck in float64 on small sizes."""
import math
import warnings

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from helpers import assert_same_as_torch, load_torch_weights, npy

torch = pytest.importorskip("torch", reason="torch is the oracle of the attention modules")
RNG = np.random.default_rng(13)


_copy = load_torch_weights


def _same(a, b, rtol=1e-8, atol=1e-10):
    assert_same_as_torch(a, b, rtol, atol, equal_nan=True)


def _both(a, device, grad=True):
    """The same host array as our tensor and torch's (float arrays require grad)."""
    a = np.asarray(a)
    g = grad and a.dtype.kind == "f"
    return ag.tensor(a, device=device, requires_grad=g), torch.tensor(a, requires_grad=g)


def _backward_and_compare(outs_o, outs_t, leaves, t_module, o_module, device):
    outs = [(o, t) for o, t in zip(outs_o, outs_t) if t is not None and t.requires_grad]
    tw = [torch.tensor(RNG.standard_normal(tuple(t.shape))) for _, t in outs]
    torch.autograd.backward([t for _, t in outs], tw)
    ag.backward([o for o, _ in outs], [ag.tensor(w.numpy(), device=device) for w in tw])
    for a, b in leaves:
        _same(a.grad, b.grad)
    for name, p in t_module.named_parameters():
        _same(o_module.get_parameter(name).grad, p.grad)


# --- MultiheadAttention -------------------------------------------------------------------------------

MHA = [("self", dict(), dict()),
       ("self-batch-first-no-weights", dict(batch_first=True), dict(need_weights=False)),
       ("cross-per-head", dict(), dict(average_attn_weights=False)),
       ("cross-kv-same", dict(), dict()),
       ("kdim-vdim-kpm", dict(kdim=5, vdim=6), dict(key_padding_mask="bool")),
       ("kdim-vdim-kpm-no-weights-bf", dict(kdim=5, vdim=6, batch_first=True), dict(key_padding_mask="bool",
                                                                                   need_weights=False)),
       ("bias-kv-zero-attn", dict(add_bias_kv=True, add_zero_attn=True), dict(key_padding_mask="bool",
                                                                               attn_mask="bool2d")),
       ("no-bias", dict(bias=False), dict(attn_mask="float2d", need_weights=False)),
       ("mask-3d", dict(), dict(attn_mask="float3d", key_padding_mask="float")),
       ("causal-hint", dict(), dict(attn_mask="causal", is_causal=True, need_weights=False)),
       ("unbatched", dict(), dict(unbatched=True, key_padding_mask="bool"))]


def _masks(spec, L, S, N, H):
    kpm = np.zeros((N, S), bool)
    kpm[0, [1, S - 1]] = True
    out = {}
    if spec.get("key_padding_mask") == "bool":
        out["key_padding_mask"] = kpm
    elif spec.get("key_padding_mask") == "float":
        out["key_padding_mask"] = np.where(kpm, -1e9, 0.0) + RNG.standard_normal((N, S)) * 0.1
    am = spec.get("attn_mask")
    if am == "bool2d":
        m = RNG.random((L, S)) > 0.7
        m[:, 0] = False                                  # every query keeps a key
        out["attn_mask"] = m
    elif am == "float2d":
        out["attn_mask"] = RNG.standard_normal((L, S))
    elif am == "float3d":
        out["attn_mask"] = RNG.standard_normal((N * H, L, S))
    elif am == "causal":
        out["attn_mask"] = np.triu(np.full((L, S), -np.inf), 1)
    return out


@pytest.mark.parametrize("label,ctor,spec", MHA, ids=[m[0] for m in MHA])
def test_multihead_attention_matches_torch(label, ctor, spec, device):
    E, H, N = 8, 2, 2
    t = torch.nn.MultiheadAttention(E, H, dtype=torch.float64, **ctor)
    o = nn.MultiheadAttention(E, H, dtype=ag.float64, device=device, **ctor)
    _copy(o, t, device)
    L, S = (3, 3) if label.startswith(("self", "causal")) else (3, 4)
    bf = ctor.get("batch_first", False)
    unb = spec.get("unbatched", False)

    def shape(n, e):
        return (n, e) if unb else ((N, n, e) if bf else (n, N, e))
    oq, tq = _both(RNG.standard_normal(shape(L, E)), device)
    if label.startswith(("self", "causal")):
        oargs, targs, leaves = (oq, oq, oq), (tq, tq, tq), [(oq, tq)]
    elif label == "cross-kv-same":
        ok, tk = _both(RNG.standard_normal(shape(S, E)), device)
        oargs, targs, leaves = (oq, ok, ok), (tq, tk, tk), [(oq, tq), (ok, tk)]
    else:
        ok, tk = _both(RNG.standard_normal(shape(S, ctor.get("kdim", E))), device)
        ov, tv = _both(RNG.standard_normal(shape(S, ctor.get("vdim", E))), device)
        oargs, targs, leaves = (oq, ok, ov), (tq, tk, tv), [(oq, tq), (ok, tk), (ov, tv)]
    masks = _masks(spec, L, S + 0, N, H)
    if unb and "key_padding_mask" in masks:
        masks["key_padding_mask"] = masks["key_padding_mask"][0]
    kw = {k: v for k, v in spec.items() if k not in ("key_padding_mask", "attn_mask", "unbatched")}
    okw = dict(kw, **{k: ag.tensor(v, device=device) for k, v in masks.items()})
    tkw = dict(kw, **{k: torch.tensor(v) for k, v in masks.items()})
    (oy, ow), (ty, tw) = o(*oargs, **okw), t(*targs, **tkw)
    _same(oy, ty)
    assert (ow is None) == (tw is None)
    if tw is not None:
        _same(ow, tw)
    _backward_and_compare([oy, ow], [ty, tw], leaves, t, o, device)


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_fully_masked_row(need_weights, device):
    """A batch element whose keys are all padding: NaN with need_weights (plain softmax), zeros without
    (scaled_dot_product_attention's safe softmax): torch 2.13 does both."""
    t = torch.nn.MultiheadAttention(4, 2, dtype=torch.float64)
    o = nn.MultiheadAttention(4, 2, dtype=ag.float64, device=device)
    with torch.no_grad():
        t.out_proj.bias.uniform_(-1, 1)
    _copy(o, t, device)
    x = RNG.standard_normal((3, 2, 4))
    kpm = np.array([[True, True, True], [False, True, False]])
    oy, ow = o(*(ag.tensor(x, device=device),) * 3, key_padding_mask=ag.tensor(kpm, device=device),
               need_weights=need_weights)
    ty, tw = t(*(torch.tensor(x),) * 3, key_padding_mask=torch.tensor(kpm), need_weights=need_weights)
    _same(oy, ty)
    assert np.isnan(npy(oy)[:, 0]).all() == need_weights
    if need_weights:
        _same(ow, tw)


def test_multihead_attention_state_dict_init_and_repr(device):
    for kw in [dict(), dict(kdim=3, vdim=5, add_bias_kv=True), dict(bias=False)]:
        o, t = nn.MultiheadAttention(16, 4, device=device, **kw), torch.nn.MultiheadAttention(16, 4, **kw)
        assert list(o.state_dict()) == list(t.state_dict())
        assert [n for n, _ in o.named_parameters()] == [n for n, _ in t.named_parameters()]
        for (n, p), (_, q) in zip(o.named_parameters(), t.named_parameters()):
            assert tuple(p.shape) == tuple(q.shape) and p.dtype.name == str(q.dtype).removeprefix("torch."), n
        assert repr(o) == repr(t)
        _copy(o, t, device)
        t2 = torch.nn.MultiheadAttention(16, 4, **kw)
        t2.load_state_dict({k: torch.tensor(npy(v)) for k, v in o.state_dict().items()}, strict=True)
    ag.manual_seed(3)
    m = nn.MultiheadAttention(64, 4, add_bias_kv=True, device=device)
    w = npy(m.in_proj_weight)
    bound = math.sqrt(6.0 / (64 + 3 * 64))                           # xavier_uniform on (3E, E)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert not npy(m.in_proj_bias).any() and not npy(m.out_proj.bias).any()
    big = nn.MultiheadAttention(1024, 4, add_bias_kv=True, device=device)
    for b in (big.bias_k, big.bias_v):                               # xavier_normal on (1, 1, E): std 1/sqrt(E)
        assert abs(npy(b).std() - 1 / math.sqrt(1024)) < 0.15 / math.sqrt(1024)
    assert m.bias_k.shape == (1, 1, 64) and m.head_dim == 16 and m._qkv_same_embed_dim


def test_multihead_attention_errors(device):
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        nn.MultiheadAttention(0, 2)
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(RuntimeError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    m = nn.MultiheadAttention(4, 2, device=device)
    x = ag.zeros(3, 2, 4, device=device)
    with pytest.raises(RuntimeError, match="The shape of the 2D attn_mask is \\(3, 4\\), but should be \\(3, 3\\)"):
        m(x, x, x, attn_mask=ag.zeros(3, 4, device=device))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="only bool and floating types of key_padding_mask"):
        m(x, x, x, key_padding_mask=ag.zeros(2, 3, dtype=ag.int64, device=device))
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D"):
        m(x, ag.zeros(3, 4, device=device), x)
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
        m(x, x, x, key_padding_mask=ag.zeros(2, 3, dtype=ag.bool, device=device), attn_mask=ag.zeros(3, 3, device=device))


def test_multihead_attention_dropout_train_and_eval(device):
    o = nn.MultiheadAttention(4, 2, dropout=0.5, dtype=ag.float64, device=device)
    t = torch.nn.MultiheadAttention(4, 2, dropout=0.5, dtype=torch.float64)
    _copy(o, t, device)
    x = RNG.standard_normal((3, 2, 4))
    o.eval()
    t.eval()
    ox, tx = _both(x, device)                 # requires_grad keeps torch off its inference fast path
    (oy, ow), (ty, tw) = o(ox, ox, ox), t(tx, tx, tx)
    _same(oy, ty)
    _same(ow, tw)
    o.train()
    a, b = o(ox, ox, ox)[0], o(ox, ox, ox)[0]
    assert not np.allclose(npy(a), npy(b))


# --- transformer layers ----------------------------------------------------------------------------------

LAYERS = [dict(), dict(norm_first=True), dict(activation="gelu", batch_first=True), dict(bias=False, layer_norm_eps=1e-3),
          dict(activation="module-gelu", norm_first=True), dict(activation="callable")]


def _activation(kw, side):
    kw = dict(kw)
    a = kw.get("activation")
    if a == "module-gelu":
        kw["activation"] = nn.GELU() if side == "ours" else torch.nn.GELU()
    elif a == "callable":
        kw["activation"] = F.silu if side == "ours" else torch.nn.functional.silu
    return kw


def _layer_pair(cls, device, kw, d=8, h=2, ff=16):
    t = getattr(torch.nn, cls)(d, h, ff, dropout=0.1, dtype=torch.float64, **_activation(kw, "torch"))
    o = getattr(nn, cls)(d, h, ff, dropout=0.1, dtype=ag.float64, device=device, **_activation(kw, "ours"))
    _copy(o, t, device)
    assert list(o.state_dict()) == list(t.state_dict())
    t.eval()                                   # dropout 0.1 in eval: identity on both sides
    o.eval()
    return o, t


@pytest.mark.parametrize("kw", LAYERS, ids=[",".join(f"{k}={v}" for k, v in kw.items()) or "default" for kw in LAYERS])
def test_encoder_layer_matches_torch(kw, device):
    o, t = _layer_pair("TransformerEncoderLayer", device, kw)
    bf = kw.get("batch_first", False)
    L, N = 5, 2
    ox, tx = _both(RNG.standard_normal((N, L, 8) if bf else (L, N, 8)), device)
    kpm = np.zeros((N, L), bool)
    kpm[1, 3:] = True
    mask = np.triu(np.full((L, L), -np.inf), 1)
    for extra in (dict(), dict(src_key_padding_mask=kpm), dict(src_mask=mask, is_causal=True),
                  dict(src_mask=RNG.random((L, L)) > 0.8)):
        oy = o(ox, **{k: (ag.tensor(v, device=device) if isinstance(v, np.ndarray) else v) for k, v in extra.items()})
        ty = t(tx, **{k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in extra.items()})
        _same(oy, ty)
    _backward_and_compare([oy], [ty], [(ox, tx)], t, o, device)


@pytest.mark.parametrize("kw", LAYERS[:4], ids=[",".join(f"{k}={v}" for k, v in kw.items()) or "default" for kw in LAYERS[:4]])
def test_decoder_layer_matches_torch(kw, device):
    o, t = _layer_pair("TransformerDecoderLayer", device, kw)
    bf = kw.get("batch_first", False)
    T_, S, N = 3, 5, 2
    otg, ttg = _both(RNG.standard_normal((N, T_, 8) if bf else (T_, N, 8)), device)
    om, tm = _both(RNG.standard_normal((N, S, 8) if bf else (S, N, 8)), device)
    mkpm = np.zeros((N, S), bool)
    mkpm[0, 4] = True
    causal = np.triu(np.full((T_, T_), -np.inf), 1)
    extra = dict(tgt_mask=causal, memory_key_padding_mask=mkpm, tgt_is_causal=True)
    oy = o(otg, om, **{k: (ag.tensor(v, device=device) if isinstance(v, np.ndarray) else v) for k, v in extra.items()})
    ty = t(ttg, tm, **{k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in extra.items()})
    _same(oy, ty)
    _backward_and_compare([oy], [ty], [(otg, ttg), (om, tm)], t, o, device)


def test_encoder_and_decoder_stacks(device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tl = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, dtype=torch.float64)
        t = torch.nn.TransformerEncoder(tl, 3, norm=torch.nn.LayerNorm(8, dtype=torch.float64))
    with pytest.warns(UserWarning, match="enable_nested_tensor is True, but self.use_nested_tensor is False"):
        o = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, dtype=ag.float64, device=device), 3,
                                  norm=nn.LayerNorm(8, dtype=ag.float64, device=device))
    assert list(o.state_dict()) == list(t.state_dict())
    layers = list(o.layers)
    assert len(layers) == 3 and layers[0].linear1.weight is not layers[1].linear1.weight     # deep copies
    _copy(o, t, device)
    ox, tx = _both(RNG.standard_normal((4, 2, 8)), device)
    causal = np.triu(np.full((4, 4), -np.inf), 1)
    oy = o(ox, mask=ag.tensor(causal, device=device))           # is_causal detected from the mask, as torch
    ty = t(tx, mask=torch.tensor(causal))
    _same(oy, ty)
    _backward_and_compare([oy], [ty], [(ox, tx)], t, o, device)
    nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, batch_first=True, device=device), 1,
                          enable_nested_tensor=False)          # accepted, no warning
    td = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, dtype=torch.float64), 2)
    od = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, dtype=ag.float64, device=device), 2)
    _copy(od, td, device)
    otg, ttg = _both(RNG.standard_normal((3, 2, 8)), device)
    c3 = np.triu(np.full((3, 3), -np.inf), 1)
    oy = od(otg, oy.detach(), tgt_mask=ag.tensor(c3, device=device))
    ty = td(ttg, ty.detach(), tgt_mask=torch.tensor(c3))
    _same(oy, ty)
    _backward_and_compare([oy], [ty], [(otg, ttg)], td, od, device)


@pytest.mark.parametrize("kw", [dict(), dict(batch_first=True, norm_first=True, activation="gelu"), dict(bias=False)])
def test_transformer_matches_torch(kw, device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.nn.Transformer(8, 2, 2, 2, 16, dropout=0.2, dtype=torch.float64, **kw)
        o = nn.Transformer(8, 2, 2, 2, 16, dropout=0.2, dtype=ag.float64, device=device, **kw)
    assert list(o.state_dict()) == list(t.state_dict())
    _copy(o, t, device)
    t.eval()
    o.eval()
    bf = kw.get("batch_first", False)
    os_, ts = _both(RNG.standard_normal((2, 5, 8) if bf else (5, 2, 8)), device)
    otg, ttg = _both(RNG.standard_normal((2, 3, 8) if bf else (3, 2, 8)), device)
    skpm = np.zeros((2, 5), bool)
    skpm[0, 4] = True
    om = nn.Transformer.generate_square_subsequent_mask(3, device=device, dtype=ag.float64)
    tm = torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64)
    oy = o(os_, otg, tgt_mask=om, src_key_padding_mask=ag.tensor(skpm, device=device),
           memory_key_padding_mask=ag.tensor(skpm, device=device))
    ty = t(ts, ttg, tgt_mask=tm, src_key_padding_mask=torch.tensor(skpm), memory_key_padding_mask=torch.tensor(skpm))
    _same(oy, ty)
    _backward_and_compare([oy], [ty], [(os_, ts), (otg, ttg)], t, o, device)
    t2 = torch.nn.Transformer(8, 2, 2, 2, 16, dtype=torch.float64, **kw)
    t2.load_state_dict({k: torch.tensor(npy(v)) for k, v in o.state_dict().items()}, strict=True)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        o(os_, otg[:1] if bf else otg[:, :1])
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        o(os_, otg[..., :4])


def test_generate_square_subsequent_mask_and_init(device):
    m = nn.Transformer.generate_square_subsequent_mask(4, device=device)
    _same(m, torch.nn.Transformer.generate_square_subsequent_mask(4))
    assert m.dtype is ag.float32 and m.device == ag.device(device)
    ag.manual_seed(5)
    tr = nn.Transformer(32, 4, 1, 1, 64, device=device)
    w = npy(tr.encoder.layers[0].linear1.weight)                     # xavier_uniform over (64, 32)
    bound = math.sqrt(6.0 / (32 + 64))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not npy(tr.encoder.layers[0].self_attn.in_proj_bias).any()
    assert (npy(tr.decoder.norm.weight) == 1).all()
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    o, t = nn.TransformerEncoderLayer(8, 2), torch.nn.TransformerEncoderLayer(8, 2)
    assert repr(o) == repr(t)


def test_transformer_train_mode_uses_dropout(device):
    o = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5, device=device)
    x = ag.tensor(RNG.standard_normal((4, 2, 8)).astype(np.float32), device=device)
    assert not np.allclose(npy(o(x)), npy(o(x)))
    o.eval()
    np.testing.assert_array_equal(npy(o(x)), npy(o(x)))


# --- gradcheck in float64 ---------------------------------------------------------------------------------

def test_gradcheck_multihead_attention(device):
    m = nn.MultiheadAttention(2, 1, add_bias_kv=True, dtype=ag.float64, device=device)
    q = ag.tensor(RNG.standard_normal((2, 1, 2)), device=device, requires_grad=True)
    k = ag.tensor(RNG.standard_normal((3, 1, 2)), device=device, requires_grad=True)
    kpm = ag.tensor([[False, True, False]], device=device)
    assert ag.gradcheck(lambda q, k: m(q, k, k, key_padding_mask=kpm), (q, k))
    assert ag.gradgradcheck(lambda q, k: m(q, k, k, need_weights=False)[0], (q, k))


def test_gradcheck_encoder_layer(device):
    m = nn.TransformerEncoderLayer(2, 1, 3, dropout=0.0, activation="gelu", dtype=ag.float64, device=device)
    x = ag.tensor(RNG.standard_normal((3, 1, 2)), device=device, requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(3, device=device, dtype=ag.float64)
    assert ag.gradcheck(lambda x: m(x, src_mask=mask), (x,))


# --- what attention keeps for backward -------------------------------------------------------------------

def test_sdpa_saves_q_k_v_and_one_probability_matrix(device):
    """The documented memory of F.scaled_dot_product_attention (docs/api/rnn.md): q, k, v and the (L, S)
    probabilities once; a bool mask adds its (L, S) bools (one byte each)."""
    B, H, L, S, E = 2, 2, 16, 24, 8
    f8 = 8
    q, k, v = (ag.tensor(RNG.standard_normal(s), device=device, requires_grad=True)
               for s in ((B, H, L, E), (B, H, S, E), (B, H, S, E)))
    expected = f8 * (B * H * L * E + 2 * B * H * S * E) + f8 * B * H * L * S
    small = 64                                       # the scale factor and other scalars
    total = ag.tape_report(F.scaled_dot_product_attention(q, k, v)).total_bytes
    assert expected <= total <= expected + small, (total, expected)
    keep = ag.tensor(RNG.random((L, S)) > 0.3, device=device)
    total = ag.tape_report(F.scaled_dot_product_attention(q, k, v, attn_mask=keep)).total_bytes
    assert expected + L * S <= total <= expected + L * S + small, (total, expected)
    with ag.profile_memory() as pm:                  # the live total agrees
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert expected + L * S <= pm.current <= expected + L * S + small, (pm.current, expected)
    del out


@pytest.mark.parametrize("name", ["MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
                                  "TransformerDecoderLayer", "TransformerDecoder", "Transformer"])
def test_signatures_match_torch(name):
    import inspect

    def params(fn):
        out = []
        for p in list(inspect.signature(fn).parameters.values())[1:]:
            d = p.default
            out.append((p.name, getattr(d, "__name__", d)))       # a default function by its name (relu)
        return out
    ours, theirs = getattr(nn, name), getattr(torch.nn, name)
    assert params(ours.__init__) == params(theirs.__init__)
    assert params(ours.forward) == params(theirs.forward)


def test_transformer_unbatched(device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, dtype=torch.float64)
        o = nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, dtype=ag.float64, device=device)
    _copy(o, t, device)
    os_, ts = _both(RNG.standard_normal((5, 8)), device)
    otg, ttg = _both(RNG.standard_normal((3, 8)), device)
    kpm = np.array([False] * 4 + [True])
    oy = o(os_, otg, src_key_padding_mask=ag.tensor(kpm, device=device),
           tgt_mask=nn.Transformer.generate_square_subsequent_mask(3, device=device, dtype=ag.float64))
    ty = t(ts, ttg, src_key_padding_mask=torch.tensor(kpm),
           tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64))
    _same(oy, ty)
    _backward_and_compare([oy], [ty], [(os_, ts), (otg, ttg)], t, o, device)
