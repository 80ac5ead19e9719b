"""What the digits examples share: the data split, the command line, the training loop with
checkpoints and exact resume, evaluation and the loss/accuracy plot.

A script supplies only its model and optimizer (`run(name, build, ...)`); everything that must be
identical between an interrupted and an uninterrupted run lives here. Resume is exact because each
epoch draws its shuffle order and dropout masks from its own seed (`seed + 1000 * (epoch + 1)`),
so epoch k replays the same randomness whether or not the process was restarted before it, and
the checkpoint holds everything else that changes: parameters, buffers, optimizer state, the epoch
just finished, the global step and the history so far.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

import autograd
import nn
import nn.functional as F

try:
    from tqdm.auto import tqdm
except ImportError:        # the bar is a nicety; the loop works without it
    tqdm = None

DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")


# --- data -------------------------------------------------------------------------------------
def load_digits_split(seed=0, test_fraction=0.2, images=False, subset=None):
    """scikit-learn's bundled 8x8 digits (1,797 images, no download), pixels scaled to [0, 1],
    split by a seeded, class-stratified shuffle. `images=True` gives (N, 1, 8, 8) for a CNN;
    `subset=(n_train, n_test)` keeps the first rows of each side (the small-budget mode)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("this example needs scikit-learn for its data set: pip install '.[examples]'")
    from sklearn.model_selection import train_test_split
    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)
    if subset is not None:
        xtr, ytr, xte, yte = xtr[:subset[0]], ytr[:subset[0]], xte[:subset[1]], yte[:subset[1]]
    if images:
        xtr, xte = xtr.reshape(-1, 1, 8, 8), xte.reshape(-1, 1, 8, 8)
    return xtr, ytr, xte, yte


# --- command line -------------------------------------------------------------------------------
def parse_args(description, epochs, lr, batch_size, argv=None):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--epochs", type=int, default=epochs, help=f"total epochs to reach (default {epochs})")
    p.add_argument("--lr", type=float, default=lr, help=f"learning rate (default {lr})")
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--seed", type=int, default=0, help="seeds the split, the initial weights and every epoch")
    p.add_argument("--device", default="cpu",
                   help="cpu, cuda (needs CuPy and an NVIDIA GPU) or array_api_strict (the reference backend)")
    p.add_argument("--out", default=DEFAULT_OUT, help="checkpoints, history and the plot (default examples/out/)")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--quick", action="store_true",
                   help="small budget for tests: 256 training and 128 test images, 2 epochs unless --epochs")
    p.add_argument("--stop-after", type=int, default=None, metavar="K",
                   help="stop after epoch K as if interrupted (to try --resume; the schedule still plans --epochs)")
    p.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (one line per epoch)")
    args = p.parse_args(argv)
    if args.quick and "--epochs" not in (argv if argv is not None else sys.argv[1:]):
        args.epochs = 2
    return args


def pick_device(name):
    """A device string any registered backend serves ("cpu", "cuda", "array_api_strict"), or exit
    with the reason it cannot be used here."""
    import backends
    if name.split(":")[0] == "cuda" and not autograd.cuda.is_available():
        sys.exit(f"--device cuda: CUDA is not usable here ({autograd.cuda.unavailable_reason()}). "
                 f"Install CuPy for your CUDA version (pip install '.[cuda]') on a machine with an NVIDIA GPU, "
                 f"or run with --device cpu.")
    try:
        be = backends.get(name)
    except Exception as e:          # noqa: BLE001 - unknown name or a library that fails to load
        sys.exit(f"--device {name}: not a usable device ({e}); try cpu or cuda")
    if not be.is_available():
        sys.exit(f"--device {name}: not usable here ({be.unavailable_reason()})")
    return name


# --- one epoch, evaluation -----------------------------------------------------------------------
def evaluate(model, loader, device):
    """Mean loss and accuracy over a loader, in eval mode and without recording a tape."""
    was_training = model.training
    model.eval()
    total, loss_sum, correct = 0, 0.0, 0
    with autograd.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits = model(x)
            loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
            correct += int((logits.argmax(1) == y).sum().item())
            total += y.shape[0]
    model.train(was_training)
    return loss_sum / total, correct / total


def train_epoch(model, opt, loader, device, bar):
    model.train()
    total, loss_sum, correct = 0, 0.0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        n = y.shape[0]
        loss_sum += loss.item() * n
        correct += int((logits.detach().argmax(1) == y).sum().item())
        total += n
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss_sum / total:.4f}", acc=f"{correct / total:.3f}")
    return loss_sum / total, correct / total, len(loader)


# --- checkpoints ------------------------------------------------------------------------------------
def save_checkpoint(path, model, opt, sched, epoch, step, history, planned):
    """Model, optimizer, scheduler, epoch (1-based, finished), global step and history in one
    safetensors file. nn.save writes a temporary file and renames it: a crash never leaves half a
    checkpoint, and the previous one stays until the new one is complete."""
    nn.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
             "scheduler": sched.state_dict() if sched is not None else None,
             "epoch": epoch, "step": step, "history": history, "planned_epochs": planned}, path)


def load_checkpoint(path, model, opt, sched, device):
    ck = nn.load(path, device=device)
    model.load_state_dict(ck["model"])
    opt.load_state_dict(ck["optimizer"])
    if sched is not None:
        sched.load_state_dict(ck["scheduler"])
    return ck["epoch"], ck["step"], {k: list(v) for k, v in ck["history"].items()}, ck["planned_epochs"]


# --- plot -------------------------------------------------------------------------------------------
def plot_curves(history, path, title):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping the plot (pip install matplotlib)")
        return None
    ep = range(1, len(history["train_loss"]) + 1)
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.4))
    a.plot(ep, history["train_loss"], label="train")
    a.plot(ep, history["test_loss"], label="test")
    a.set_xlabel("epoch"), a.set_ylabel("cross-entropy"), a.set_yscale("log"), a.legend()
    b.plot(ep, history["train_acc"], label="train")
    b.plot(ep, history["test_acc"], label="test")
    b.set_xlabel("epoch"), b.set_ylabel("accuracy"), b.legend()
    fig.suptitle(title)
    fig.tight_layout()
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
    return path


# --- the whole run ------------------------------------------------------------------------------------
def run(name, build, args, images=False):
    """Train `build(args) -> (model, optimizer, scheduler or None)` on the digits split; returns the history dict.

    Writes DIR/NAME.safetensors (checkpoint, every epoch), DIR/NAME_history.json and DIR/NAME.png."""
    device = pick_device(args.device)
    os.makedirs(args.out, exist_ok=True)
    ckpt = os.path.join(args.out, f"{name}.safetensors")
    subset = (256, 128) if args.quick else None
    xtr, ytr, xte, yte = load_digits_split(args.seed, images=images, subset=subset)

    autograd.manual_seed(args.seed)
    model, opt, sched = build(args)
    model.to(device)           # before the optimizer's first step, so its state is created on device
    train_loader = nn.data.DataLoader(nn.data.TensorDataset(autograd.tensor(xtr), autograd.tensor(ytr)),
                                      batch_size=args.batch_size, shuffle=True)
    test_loader = nn.data.DataLoader(nn.data.TensorDataset(autograd.tensor(xte), autograd.tensor(yte)),
                                     batch_size=512)

    start, step = 0, 0
    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": [], "seconds": []}
    if args.resume:
        if not os.path.exists(ckpt):
            sys.exit(f"--resume: no checkpoint at {ckpt}")
        start, step, history, planned = load_checkpoint(ckpt, model, opt, sched, device)
        print(f"resumed {name} from {ckpt}: epoch {start} done, step {step}")
        if planned != args.epochs:
            print(f"note: the checkpoint was planned for {planned} epochs and its learning-rate schedule keeps "
                  f"that plan; with --epochs {args.epochs} the numbers will differ from an uninterrupted run")
        if start >= args.epochs:
            print(f"nothing to do: the checkpoint already has {start} epochs (--epochs {args.epochs})")

    n_params = sum(p.numel() for p in model.parameters())
    print(f"{name}: {n_params} parameters, {len(xtr)} training / {len(xte)} test images, device {device}")
    stop = args.epochs if args.stop_after is None else min(args.epochs, args.stop_after)
    for epoch in range(start, stop):
        autograd.manual_seed(args.seed + 1000 * (epoch + 1))
        t0 = time.perf_counter()
        bar = None
        if tqdm is not None and not args.no_progress:
            bar = tqdm(total=len(train_loader), desc=f"epoch {epoch + 1}/{args.epochs}", leave=False,
                       file=sys.stderr, disable=None)     # None: no bar when stderr is not a terminal (logs)
        tr_loss, tr_acc, steps = train_epoch(model, opt, train_loader, device, bar)
        if bar is not None:
            bar.close()
        step += steps
        if sched is not None:
            sched.step()
        te_loss, te_acc = evaluate(model, test_loader, device)
        dt = time.perf_counter() - t0
        for k, v in zip(history, (tr_loss, tr_acc, te_loss, te_acc, dt)):
            history[k].append(v)
        print(f"epoch {epoch + 1:3d}/{args.epochs}  step {step:5d}  train loss {tr_loss:.4f} acc {tr_acc:.4f}  "
              f"test loss {te_loss:.4f} acc {te_acc:.4f}  ({dt:.2f} s)", flush=True)
        save_checkpoint(ckpt, model, opt, sched, epoch + 1, step, history, args.epochs)

    if len(history["train_loss"]) < args.epochs:
        print(f"stopped after epoch {len(history['train_loss'])} of {args.epochs} (--stop-after); "
              f"continue with --resume")
    with open(os.path.join(args.out, f"{name}_history.json"), "w") as f:
        json.dump({"epochs": len(history["train_loss"]), "step": step, **history}, f, indent=1)
    if history["test_acc"]:
        print(f"final test accuracy {history['test_acc'][-1]:.4f}  test loss {history['test_loss'][-1]:.6f}  "
              f"train time {sum(history['seconds']):.1f} s over {len(history['seconds'])} epochs")
        if not args.no_plot:
            png = plot_curves(history, os.path.join(args.out, f"{name}.png"), name)
            if png:
                print(f"curves: {png}")
    return model, history

