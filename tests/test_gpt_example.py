"""examples/gpt.py on a tiny budget (--quick: a 2-layer, 32-wide model for 12 steps, seconds):
the loss starts at chance and falls, a sample comes out, a checkpoint + --resume continues with
bit-identical losses, and the model's pieces behave as nanoGPT's (weight tying, greedy decoding
with top_k=1, parameter groups).

The expected values come from outside the code under test: chance level ln(vocab), an
uninterrupted run, an argmax computed here by hand, a parameter count from the architecture.
"""
import importlib.util
import math
import pathlib

import numpy as np
import pytest

import autograd

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def gpt(monkeypatch):
    pytest.importorskip("safetensors", reason="examples/gpt.py checkpoints with nn.save (safetensors)")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    autograd.set_default_device("cpu")       # the example chooses its device with --device
    spec = importlib.util.spec_from_file_location("example_gpt", EXAMPLES / "gpt.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _quick(out, *extra):
    return ["--quick", "--no-progress", "--no-plot", "--out", str(out), *extra]


def test_quick_run_learns_and_samples(gpt, tmp_path, device):
    res = gpt.main(_quick(tmp_path, "--device", device))
    losses = res["history"]["train_loss"]
    vocab = res["data"].vocab_size
    assert len(losses) == 12 and all(math.isfinite(v) for v in losses)
    assert abs(losses[0] - math.log(vocab)) < 0.3              # a fresh model is near chance
    assert np.mean(losses[-3:]) < np.mean(losses[:3]) - 0.2    # and it learns
    assert res["history"]["eval_step"] == [6, 12]
    assert res["history"]["eval_val"][-1] < math.log(vocab)
    s = res["sample"]
    assert isinstance(s, str) and s.startswith("def ") and len(s) == len("def ") + 40
    assert set(s) <= set(res["data"].chars)
    assert all(p.device.type == autograd.device(device).type for p in res["model"].parameters())
    assert (tmp_path / "gpt.safetensors").exists() and (tmp_path / "gpt_history.json").exists()


def test_resume_gives_identical_losses(gpt, tmp_path):
    import nn
    full_run = gpt.main(_quick(tmp_path / "full"))
    full = full_run["history"]
    cut = gpt.main(_quick(tmp_path / "cut", "--stop-after", "7"))["history"]   # past a sample, between evaluations
    assert len(cut["train_loss"]) == 7
    ck = nn.load(tmp_path / "cut" / "gpt.safetensors")
    assert ck["step"] == 7 and set(ck) >= {"model", "optimizer", "step", "history", "rng_state"}
    resumed_run = gpt.main(_quick(tmp_path / "cut", "--resume"))
    resumed = resumed_run["history"]
    assert resumed_run["sample"] == full_run["sample"]        # the sampler's RNG state came back too
    for k in ("train_loss", "eval_step", "eval_train", "eval_val"):
        assert resumed[k] == full[k], k                        # exact, not approximate
    a = nn.load(tmp_path / "full" / "gpt.safetensors")
    b = nn.load(tmp_path / "cut" / "gpt.safetensors")
    assert a["step"] == b["step"] == 12
    for k in a["model"]:
        np.testing.assert_array_equal(a["model"][k].numpy(), b["model"][k].numpy(), err_msg=k)


def test_resume_without_checkpoint_says_so(gpt, tmp_path):
    with pytest.raises(SystemExit, match="no checkpoint"):
        gpt.main(_quick(tmp_path, "--resume"))


def _tiny(gpt, vocab=11, **kw):
    autograd.manual_seed(0)
    cfg = dict(block_size=8, vocab_size=vocab, n_layer=2, n_head=2, n_embd=16)
    cfg.update(kw)
    return gpt.GPT(gpt.GPTConfig(**cfg))


def test_model_structure_as_nanogpt(gpt):
    m = _tiny(gpt)
    assert m.lm_head.weight is m.transformer.wte.weight                  # tied
    C, V, T, L = 16, 11, 8, 2
    per_block = 2 * 2 * C + (C * 3 * C + 3 * C) + (C * C + C) + (C * 4 * C + 4 * C) + (4 * C * C + C)
    total = V * C + T * C + L * per_block + 2 * C                        # wte (= lm_head), wpe, blocks, ln_f
    assert sum(p.numel() for p in m.parameters()) == total
    assert m.get_num_params() == total - T * C
    opt = m.configure_optimizers(0.1, 1e-3, (0.9, 0.95))
    decay, nodecay = opt.param_groups
    assert decay["weight_decay"] == 0.1 and nodecay["weight_decay"] == 0.0
    assert all(p.dim() >= 2 for p in decay["params"]) and all(p.dim() < 2 for p in nodecay["params"])
    assert len(decay["params"]) + len(nodecay["params"]) == len(list(m.parameters()))
    assert opt.param_groups[0]["betas"] == (0.9, 0.95)
    m.eval()
    idx = autograd.tensor([[1, 2, 3], [4, 5, 6]])
    logits, loss = m(idx)
    assert tuple(logits.shape) == (2, 1, V) and loss is None and logits.dtype == autograd.float32
    logits, loss = m(idx, idx)
    assert tuple(logits.shape) == (2, 3, V) and tuple(loss.shape) == () and math.isfinite(loss.item())


def test_generate_top_k_1_is_greedy(gpt):
    """top_k=1 leaves one candidate, so sampling must pick the argmax: compared with a greedy
    loop written here, over more steps than the block size (the context is cropped)."""
    m = _tiny(gpt)
    m.eval()
    idx = autograd.tensor([[3, 1], [7, 7]])
    out = m.generate(idx, 10, temperature=0.7, top_k=1)
    assert tuple(out.shape) == (2, 12) and out.dtype == autograd.int64
    ref = idx.numpy().tolist()
    with autograd.no_grad():
        for _ in range(10):
            ctx = autograd.tensor([r[-8:] for r in ref])
            logits, _ = m(ctx)
            nxt = logits[:, -1, :].numpy().argmax(-1)
            ref = [r + [int(n)] for r, n in zip(ref, nxt)]
    assert out.numpy().tolist() == ref


def test_generate_samples_only_from_top_k(gpt):
    m = _tiny(gpt)
    m.eval()
    autograd.manual_seed(1)
    idx = autograd.tensor([[2]] * 64)
    with autograd.no_grad():
        logits, _ = m(idx)
    allowed = set(np.argsort(-logits[0, -1].numpy())[:3].tolist())
    out = m.generate(idx, 1, temperature=1.0, top_k=3)
    drawn = set(out[:, -1].numpy().tolist())
    assert drawn <= allowed and len(drawn) >= 2                # random, but only among the top 3


def test_same_numbers_as_the_same_code_under_torch(gpt, monkeypatch):
    """The example's model code, with its three imports pointed at torch, is a nanoGPT torch
    model: from the same weights and batches, it gives our losses, gradients and AdamW steps."""
    torch = pytest.importorskip("torch", reason="the oracle is the same model code run by PyTorch")
    import types
    import nn
    monkeypatch.setattr(torch.nn, "optim", torch.optim, raising=False)    # nn.optim.AdamW in the code
    src = (EXAMPLES / "gpt.py").read_text()
    for ours, theirs in (("import autograd\n", "import torch as autograd\n"), ("import nn\n", "import torch.nn as nn\n"),
                         ("import nn.functional as F\n", "import torch.nn.functional as F\n")):
        assert ours in src
        src = src.replace(ours, theirs)
    tg = types.ModuleType("example_gpt_torch")
    tg.__file__ = str(EXAMPLES / "gpt.py")
    monkeypatch.setitem(__import__("sys").modules, "example_gpt_torch", tg)
    exec(compile(src, str(EXAMPLES / "gpt.py"), "exec"), tg.__dict__)

    cfg = dict(block_size=8, vocab_size=11, n_layer=2, n_head=2, n_embd=16)
    ours = _tiny(gpt)
    theirs = tg.GPT(tg.GPTConfig(**cfg))
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    assert theirs.lm_head.weight is theirs.transformer.wte.weight
    o_opt = ours.configure_optimizers(0.1, 1e-2, (0.9, 0.95))
    t_opt = theirs.configure_optimizers(0.1, 1e-2, (0.9, 0.95))
    rng = np.random.default_rng(0)
    for step in range(3):
        x = rng.integers(0, 11, size=(4, 8))
        y = rng.integers(0, 11, size=(4, 8))
        _, lo = ours(autograd.tensor(x), autograd.tensor(y))
        _, lt = theirs(torch.tensor(x), torch.tensor(y))
        np.testing.assert_allclose(lo.item(), lt.item(), rtol=1e-5)
        lo.backward()
        lt.backward()
        t_params = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), rtol=1e-4, atol=1e-6,
                                       err_msg=f"step {step}: {name}")
        no = nn.utils.clip_grad_norm_(ours.parameters(), 0.5)
        nt = torch.nn.utils.clip_grad_norm_(theirs.parameters(), 0.5)
        np.testing.assert_allclose(no.item(), nt.item(), rtol=1e-5)
        o_opt.step()
        t_opt.step()
        o_opt.zero_grad()
        t_opt.zero_grad()
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.detach().numpy(), t_params[name].detach().numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=name)
