"""Modelled on karpathy/makemore's MLP (Bengio et al.) as written in the "building makemore" notebooks:
a torch.Generator seeded with manual_seed for the parameters, an embedding table C indexed as C[X],
.view(-1, ...) to concatenate the context, tanh hidden layer, F.cross_entropy, p.data += -lr * p.grad,
and sampling names with torch.multinomial(..., generator=g)."""
import numpy as np

WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia", "harper", "evelyn",
         "abigail", "emily", "elizabeth", "mila", "ella", "avery", "sofia", "camila", "aria", "scarlett"]


def imports(lib):
    if lib == "torch":
        import torch
        import torch.nn.functional as F
    else:
        import autograd as torch
        import nn.functional as F
    return torch, F


def program(lib, H, steps=15):
    torch, F = imports(lib)
    chars = sorted(list(set(''.join(WORDS))))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi['.'] = 0
    itos = {i: s for s, i in stoi.items()}
    block_size = 3

    def build_dataset(words):
        X, Y = [], []
        for w in words:
            context = [0] * block_size
            for ch in w + '.':
                ix = stoi[ch]
                X.append(context)
                Y.append(ix)
                context = context[1:] + [ix]
        X = torch.tensor(X)
        Y = torch.tensor(Y)
        return X, Y

    Xtr, Ytr = build_dataset(WORDS)
    g = torch.Generator().manual_seed(2147483647)
    vocab = len(itos)
    C = torch.randn((vocab, 10), generator=g)
    W1 = torch.randn((30, 64), generator=g) * 0.2
    b1 = torch.randn(64, generator=g) * 0.01
    W2 = torch.randn((64, vocab), generator=g) * 0.01
    b2 = torch.randn(vocab, generator=g) * 0

    class Params:                           # the notebook's parameter list, as a module-like holder
        def __init__(self, ps):
            self.ps = ps

        def state_dict(self):
            return {f"p{i}": p for i, p in enumerate(self.ps)}

        def load_state_dict(self, sd, strict=True):
            for i, p in enumerate(self.ps):
                p.data = sd[f"p{i}"].to(p.dtype)

    holder = H.init(Params([C, W1, b1, W2, b2]))
    parameters = holder.ps
    for p in parameters:
        p.requires_grad = True
    rng = np.random.default_rng(4)
    losses = []
    for i in range(steps):
        ix = torch.tensor(rng.integers(0, Xtr.shape[0], 32))     # torch.randint(0, Xtr.shape[0], (32,))
        emb = C[Xtr[ix]]
        h = torch.tanh(emb.view(-1, 30) @ W1 + b1)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Ytr[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < 100 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        losses.append(loss.item())
    # sample from the model (the notebook's loop), with its own generator
    g = torch.Generator().manual_seed(2147483647 + 10)
    for _ in range(3):
        out = []
        context = [0] * block_size
        while True:
            emb = C[torch.tensor([context])]
            h = torch.tanh(emb.view(1, -1) @ W1 + b1)
            logits = h @ W2 + b2
            probs = F.softmax(logits, dim=1)
            ix = torch.multinomial(probs, num_samples=1, generator=g).item()
            context = context[1:] + [ix]
            out.append(ix)
            if ix == 0 or len(out) > 20:
                break
        name = ''.join(itos[i] for i in out)
        assert all(c in stoi for c in name)
    return losses, holder
