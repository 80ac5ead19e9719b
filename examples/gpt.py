"""Train a character-level GPT on the Python standard library's own source code, nanoGPT-style.

The model code follows karpathy/nanoGPT's model.py with `torch` spelled `autograd`: LayerNorm with
an optional bias, causal self-attention through scaled_dot_product_attention(is_causal=True), a
GELU MLP, pre-norm blocks, the token embedding tied to the output head, GPT-2's initialisation,
AdamW with decay / no-decay groups, gradient clipping, a warmup + cosine learning rate and
generate() with temperature and top-k. The corpus needs no download: a fixed, sorted list of the
standard library's top-level .py files (every Python installation has them), as characters.

Run: python examples/gpt.py [--max-iters N] [--device cuda] [--out DIR] [--resume] [--quick]
(defaults: 4 layers x 96 wide, 0.46M parameters, 800 steps of 16 x 64 characters: about 3.5
minutes of one CPU core; on a machine busy with other work, OPENBLAS_NUM_THREADS=1 avoids BLAS
threads fighting over the cores, which slows the batched matmuls down by an order of magnitude).

Resume is exact: batch k is drawn from its own seed (seed, k) and dropout (if any) is reseeded per
step, so the checkpoint (model, AdamW state, step, losses so far and the state of the samples' own
autograd.Generator) is all that changes between steps; resuming from step k gives the same losses
and samples as an uninterrupted run, bit for bit.
"""

import argparse
import glob
import json
import math
import os
import sys
import sysconfig
import time
from dataclasses import dataclass, asdict

import numpy as np

import autograd
import nn
import nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import DEFAULT_OUT, pick_device, tqdm  # noqa: E402  (tqdm is None when not installed)


# --- the model (nanoGPT's model.py) -----------------------------------------------------------
class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (nn.LayerNorm has no bias=False switch in torch < 2.1)."""

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(autograd.ones(ndim))
        self.bias = nn.Parameter(autograd.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)   # q, k, v in one
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout

    def forward(self, x):
        B, T, C = x.size()          # batch, sequence length, embedding dim
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)     # (B, nh, T, hs)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=None,
                                           dropout_p=self.dropout if self.training else 0.0, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)                    # heads side by side again
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


@dataclass
class GPTConfig:
    block_size: int = 64
    vocab_size: int = 128
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 96
    dropout: float = 0.0
    bias: bool = True


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # weight tying: the input embedding and the output projection are one parameter
        self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        # GPT-2's scaled init of the residual projections
        for pn, p in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    def get_num_params(self, non_embedding=True):
        """Parameters counted once (the tied wte/lm_head weight too); the position embedding is
        subtracted by default, as nanoGPT reports it."""
        n_params = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n_params -= self.transformer.wpe.weight.numel()
        return n_params

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        b, t = idx.size()
        assert t <= self.config.block_size, f"Cannot forward sequence of length {t}, block size is only {self.config.block_size}"
        pos = autograd.arange(0, t, dtype=autograd.long, device=idx.device)      # (t,)
        tok_emb = self.transformer.wte(idx)        # (b, t, n_embd)
        pos_emb = self.transformer.wpe(pos)        # (t, n_embd)
        x = self.transformer.drop(tok_emb + pos_emb)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        if targets is not None:
            logits = self.lm_head(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        else:
            logits = self.lm_head(x[:, [-1], :])   # inference: only the last position is needed
            loss = None
        return logits, loss

    def configure_optimizers(self, weight_decay, learning_rate, betas):
        param_dict = {pn: p for pn, p in self.named_parameters() if p.requires_grad}
        # matrices (and embeddings) decay; biases and LayerNorm gains do not
        decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
        nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
        optim_groups = [
            {"params": decay_params, "weight_decay": weight_decay},
            {"params": nodecay_params, "weight_decay": 0.0},
        ]
        return nn.optim.AdamW(optim_groups, lr=learning_rate, betas=betas)

    @autograd.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, generator=None):
        """Extend idx (b, t) by max_new_tokens characters, each sampled from the model's
        distribution for the next one (scaled by 1/temperature, cut to the top_k most likely),
        drawn from `generator` (default: the device's global one)."""
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.size(1) <= self.config.block_size else idx[:, -self.config.block_size:]
            logits, _ = self(idx_cond)
            logits = logits[:, -1, :] / temperature
            if top_k is not None:
                v, _ = autograd.topk(logits, min(top_k, logits.size(-1)))
                logits[logits < v[:, [-1]]] = -float("Inf")
            probs = F.softmax(logits, dim=-1)
            idx_next = autograd.multinomial(probs, num_samples=1, generator=generator)
            idx = autograd.cat((idx, idx_next), dim=1)
        return idx


# --- data: the standard library's source, as characters -----------------------------------------
def load_corpus(max_bytes):
    """The standard library's top-level .py files in sorted order, concatenated up to max_bytes.
    Non-ASCII characters become '?' so the vocabulary stays small (under 100 characters)."""
    stdlib = sysconfig.get_paths()["stdlib"]
    parts, size = [], 0
    for path in sorted(glob.glob(os.path.join(stdlib, "*.py"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            s = f.read().encode("ascii", "replace").decode("ascii")
        parts.append(s)
        size += len(s)
        if size >= max_bytes:
            break
    text = "".join(parts)[:max_bytes]
    if not text:
        sys.exit(f"no Python source found under {stdlib}")
    return text


class CharData:
    """Vocabulary, encode/decode, the 90/10 train/val split and seeded batches."""

    def __init__(self, text):
        self.chars = sorted(set(text))
        self.stoi = {ch: i for i, ch in enumerate(self.chars)}
        data = np.array([self.stoi[c] for c in text], dtype=np.int64)
        n = int(0.9 * len(data))
        self.split = {"train": data[:n], "val": data[n:]}

    @property
    def vocab_size(self):
        return len(self.chars)

    def encode(self, s):
        return [self.stoi[c] for c in s if c in self.stoi]

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids)

    def batch(self, split, key, batch_size, block_size, device):
        """batch_size random windows of split, from the generator seeded by `key` (a tuple of
        ints): the same key always gives the same batch, whatever happened before."""
        data = self.split[split]
        ix = np.random.default_rng(key).integers(0, len(data) - block_size, size=batch_size)
        offs = ix[:, None] + np.arange(block_size)
        x = autograd.tensor(data[offs], device=device)
        y = autograd.tensor(data[offs + 1], device=device)
        return x, y


# --- training ---------------------------------------------------------------------------------------
def get_lr(it, args):
    """Linear warmup to --lr, then cosine decay to --min-lr at --max-iters."""
    if it < args.warmup_iters:
        return args.lr * (it + 1) / (args.warmup_iters + 1)
    if it >= args.max_iters:
        return args.min_lr
    ratio = (it - args.warmup_iters) / max(1, args.max_iters - args.warmup_iters)
    return args.min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (args.lr - args.min_lr)


@autograd.no_grad()
def estimate_loss(model, data, args, device):
    """Mean loss over --eval-iters fixed batches per split (the same batches at every evaluation,
    so the curve compares like with like)."""
    out = {}
    model.eval()
    for si, split in enumerate(("train", "val")):
        losses = []
        for k in range(args.eval_iters):
            x, y = data.batch(split, (args.seed, 1, si, k), args.batch_size, args.block_size, device)
            _, loss = model(x, y)
            losses.append(loss.item())
        out[split] = float(np.mean(losses))
    model.train()
    return out


def sample(model, data, device, n_chars, prompt, temperature, top_k, generator):
    ids = data.encode(prompt) or [0]
    idx = autograd.tensor([ids], dtype=autograd.long, device=device)
    was_training = model.training
    model.eval()
    out = model.generate(idx, n_chars, temperature=temperature, top_k=top_k, generator=generator)
    model.train(was_training)
    return data.decode(out[0].tolist())


def save_checkpoint(path, model, opt, step, history, args, rng_state):
    """Everything that changes between steps, in one safetensors file written atomically by
    nn.save (temporary file, fsync, rename): the keys of common.save_checkpoint ("model",
    "optimizer", "step", "history") plus the RNG state and the run's settings."""
    nn.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
             "history": history, "rng_state": rng_state, "config": asdict(model.config),
             "planned_iters": args.max_iters}, path)


def plot_curves(history, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping the loss curve (pip install matplotlib)")
        return None
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(range(1, len(history["train_loss"]) + 1), history["train_loss"], lw=0.6, alpha=0.6, label="train (batch)")
    ax.plot(history["eval_step"], history["eval_train"], "o-", label="train (eval)")
    ax.plot(history["eval_step"], history["eval_val"], "o-", label="val (eval)")
    ax.set_xlabel("step"), ax.set_ylabel("cross-entropy (nats/char)"), ax.legend()
    ax.set_title("char GPT on the Python stdlib")
    fig.tight_layout()
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
    return path


QUICK = dict(n_layer=2, n_head=2, n_embd=32, block_size=32, batch_size=8, max_iters=12, eval_interval=6,
             eval_iters=2, warmup_iters=2, data_bytes=200_000, sample_chars=40)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a = p.add_argument
    a("--n-layer", type=int, default=4)
    a("--n-head", type=int, default=4)
    a("--n-embd", type=int, default=96)
    a("--block-size", type=int, default=64, help="context length in characters")
    a("--dropout", type=float, default=0.0)
    a("--no-bias", dest="bias", action="store_false", help="Linear and LayerNorm layers without bias")
    a("--batch-size", type=int, default=16)
    a("--max-iters", type=int, default=800, help="training steps (the cosine schedule ends here)")
    a("--lr", type=float, default=4e-3, help="peak learning rate")
    a("--min-lr", type=float, default=4e-4)
    a("--warmup-iters", type=int, default=40)
    a("--weight-decay", type=float, default=0.1)
    a("--grad-clip", type=float, default=1.0)
    a("--eval-interval", type=int, default=200, help="evaluate, print a sample and checkpoint every N steps")
    a("--eval-iters", type=int, default=10)
    a("--data-bytes", type=int, default=2_000_000, help="characters of stdlib source to use")
    a("--sample-chars", type=int, default=200)
    a("--temperature", type=float, default=0.7)
    a("--top-k", type=int, default=20)
    a("--prompt", default="def ")
    a("--seed", type=int, default=1337)
    a("--device", default="cpu", help="cpu, cuda (needs CuPy and an NVIDIA GPU) or array_api_strict")
    a("--out", default=DEFAULT_OUT, help="checkpoint, history and loss curve (default examples/out/)")
    a("--resume", action="store_true", help="continue from the checkpoint in --out")
    a("--stop-after", type=int, default=None, metavar="K",
      help="stop after step K as if interrupted (to try --resume; the schedule still plans --max-iters)")
    a("--quick", action="store_true", help="a tiny model for a few seconds (smoke test); explicit flags still win")
    a("--no-plot", action="store_true")
    a("--no-progress", action="store_true", help="no progress bar (a line every few steps)")
    args = p.parse_args(argv)
    if args.quick:
        given = argv if argv is not None else sys.argv[1:]
        for k, v in QUICK.items():
            if "--" + k.replace("_", "-") not in given:
                setattr(args, k, v)
    return args


def main(argv=None):
    """Train; returns a dict with the model, the history (per-step losses, evaluations) and the
    last sample."""
    args = parse_args(argv)
    device = pick_device(args.device)
    os.makedirs(args.out, exist_ok=True)
    ckpt = os.path.join(args.out, "gpt.safetensors")

    text = load_corpus(args.data_bytes)
    data = CharData(text)
    autograd.manual_seed(args.seed)
    config = GPTConfig(block_size=args.block_size, vocab_size=data.vocab_size, n_layer=args.n_layer,
                       n_head=args.n_head, n_embd=args.n_embd, dropout=args.dropout, bias=args.bias)
    model = GPT(config)
    model.to(device)            # before the optimizer's first step, so AdamW's state lives on device
    opt = model.configure_optimizers(args.weight_decay, args.lr, (0.9, 0.95))
    sampler = autograd.Generator(device=device).manual_seed(args.seed)    # the samples' own random stream

    step = 0
    history = {"train_loss": [], "eval_step": [], "eval_train": [], "eval_val": [], "seconds": 0.0}
    if args.resume:
        if not os.path.exists(ckpt):
            sys.exit(f"--resume: no checkpoint at {ckpt}")
        ck = nn.load(ckpt, device=device)
        if ck["config"] != asdict(config):
            sys.exit(f"--resume: the checkpoint's model {ck['config']} differs from this run's {asdict(config)}")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        step, history = ck["step"], ck["history"]
        sampler.set_state(ck["rng_state"].cpu())
        print(f"resumed from {ckpt} at step {step}")
        if ck["planned_iters"] != args.max_iters:
            print(f"note: the checkpoint planned {ck['planned_iters']} steps; with --max-iters {args.max_iters} "
                  f"the learning-rate schedule differs from the uninterrupted run's")

    n_params = model.get_num_params()
    print(f"gpt: {n_params / 1e6:.3f}M parameters (without position embeddings), vocab {data.vocab_size}, "
          f"{len(data.split['train']):,} train / {len(data.split['val']):,} val characters, device {device}")

    stop = args.max_iters if args.stop_after is None else min(args.max_iters, args.stop_after)
    bar = None
    if tqdm is not None and not args.no_progress and step < stop:
        bar = tqdm(total=stop, initial=step, desc="gpt", file=sys.stderr, disable=None)
        if bar.disable:         # None: no bar when stderr is not a terminal (a log): plain lines then
            bar = None
    log_every = max(1, args.eval_interval // 5)
    last_sample = None
    t_run = time.perf_counter()
    t0 = time.perf_counter()
    while step < stop:
        lr = get_lr(step, args)
        for group in opt.param_groups:
            group["lr"] = lr
        if args.dropout > 0:
            autograd.manual_seed(args.seed + 7919 * (step + 1))   # step k's dropout masks, resumed or not
        x, y = data.batch("train", (args.seed, 0, step), args.batch_size, args.block_size, device)
        _, loss = model(x, y)
        loss.backward()
        if args.grad_clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        history["train_loss"].append(loss.item())
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{history['train_loss'][-1]:.4f}", lr=f"{lr:.2e}")
        elif step % log_every == 0:
            dt = time.perf_counter() - t0
            print(f"step {step:5d}/{args.max_iters}  loss {history['train_loss'][-1]:.4f}  lr {lr:.2e}  "
                  f"{log_every * args.batch_size * args.block_size / dt:,.0f} tok/s", flush=True)
            t0 = time.perf_counter()
        if step % args.eval_interval == 0 or step == args.max_iters:
            history["seconds"] += time.perf_counter() - t_run
            losses = estimate_loss(model, data, args, device)
            history["eval_step"].append(step)
            history["eval_train"].append(losses["train"])
            history["eval_val"].append(losses["val"])
            last_sample = sample(model, data, device, args.sample_chars, args.prompt, args.temperature, args.top_k,
                                 sampler)
            msg = (f"step {step}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}\n"
                   f"--- sample ---\n{last_sample}\n--------------")
            (bar.write(msg) if bar is not None else print(msg, flush=True))
            save_checkpoint(ckpt, model, opt, step, history, args, sampler.get_state())
            t_run = t0 = time.perf_counter()
        elif step == stop:              # interrupted between evaluations: checkpoint only
            history["seconds"] += time.perf_counter() - t_run
            save_checkpoint(ckpt, model, opt, step, history, args, sampler.get_state())
    if bar is not None:
        bar.close()

    done = len(history["train_loss"])
    if done < args.max_iters:
        print(f"stopped at step {done} of {args.max_iters} (--stop-after); continue with --resume")
    tokens = done * args.batch_size * args.block_size
    summary = {"params": n_params, "steps": done, "tokens": tokens, "train_seconds": history["seconds"],
               "tokens_per_s": tokens / max(history["seconds"], 1e-9),
               "final_train_loss": history["eval_train"][-1] if history["eval_train"] else None,
               "final_val_loss": history["eval_val"][-1] if history["eval_val"] else None}
    with open(os.path.join(args.out, "gpt_history.json"), "w") as f:
        json.dump({**summary, **history, "sample": last_sample}, f, indent=1)
    if history["eval_val"]:
        print(f"final train loss {history['eval_train'][-1]:.4f}  val loss {history['eval_val'][-1]:.4f}  "
              f"{done} steps, {summary['train_seconds']:.1f} s training, {summary['tokens_per_s']:,.0f} tok/s")
        if not args.no_plot:
            png = plot_curves(history, os.path.join(args.out, "gpt.png"))
            if png:
                print(f"loss curve: {png}")
    return {"model": model, "history": history, "sample": last_sample, "data": data, "summary": summary}


if __name__ == "__main__":
    main()
