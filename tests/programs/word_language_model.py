"""Modelled on pytorch/examples word_language_model (model.py RNNModel + main.py): Embedding -> LSTM or GRU
(one layer here: two layers of 32 learn nothing in 12 steps at this size) -> Linear decoder with tied weights, init_weights with uniform_/zeros_,
init_hidden through weight.new_zeros, batchify / get_batch slicing of a token stream, repackage_hidden
(detach of a tuple), nn.NLLLoss on log_softmax, clip_grad_norm_ and the manual SGD update
p.data.add_(p.grad, alpha=-lr)."""
import numpy as np


def imports(lib):
    if lib == "torch":
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
    else:
        import autograd as torch
        import nn
        import nn.functional as F
    return torch, nn, F


def program(lib, H, steps=10, rnn_type="LSTM"):
    torch, nn, F = imports(lib)

    class RNNModel(nn.Module):
        def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
            super(RNNModel, self).__init__()
            self.ntoken = ntoken
            self.drop = nn.Dropout(dropout)
            self.encoder = nn.Embedding(ntoken, ninp)
            if rnn_type in ['LSTM', 'GRU']:
                self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
            self.decoder = nn.Linear(nhid, ntoken)
            if tie_weights:
                if nhid != ninp:
                    raise ValueError('When using the tied flag, nhid must be equal to emsize')
                self.decoder.weight = self.encoder.weight
            self.init_weights()
            self.rnn_type = rnn_type
            self.nhid = nhid
            self.nlayers = nlayers

        def init_weights(self):
            initrange = 0.1
            nn.init.uniform_(self.encoder.weight, -initrange, initrange)
            nn.init.zeros_(self.decoder.bias)
            nn.init.uniform_(self.decoder.weight, -initrange, initrange)

        def forward(self, input, hidden):
            emb = self.drop(self.encoder(input))
            output, hidden = self.rnn(emb, hidden)
            output = self.drop(output)
            decoded = self.decoder(output)
            decoded = decoded.view(-1, self.ntoken)
            return F.log_softmax(decoded, dim=1), hidden

        def init_hidden(self, bsz):
            weight = next(self.parameters())
            if self.rnn_type == 'LSTM':
                return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                        weight.new_zeros(self.nlayers, bsz, self.nhid))
            else:
                return weight.new_zeros(self.nlayers, bsz, self.nhid)

    def batchify(data, bsz):
        nbatch = data.size(0) // bsz
        data = data.narrow(0, 0, nbatch * bsz)
        data = data.view(bsz, -1).t().contiguous()
        return data

    def repackage_hidden(h):
        if isinstance(h, torch.Tensor):
            return h.detach()
        else:
            return tuple(repackage_hidden(v) for v in h)

    bptt = 35

    def get_batch(source, i):
        seq_len = min(bptt, len(source) - 1 - i)
        data = source[i:i + seq_len]
        target = source[i + 1:i + 1 + seq_len].view(-1)
        return data, target

    rng = np.random.default_rng(7)
    ntokens = 30
    words = np.arange(3000) * 7 % ntokens                      # a periodic "text" with 5% of its words replaced
    noise = rng.random(3000) < 0.05
    words[noise] = rng.integers(0, ntokens, noise.sum())
    train_data = batchify(torch.tensor(words.astype("int64")), 20)
    model = H.init(RNNModel(rnn_type, ntokens, 32, 32, 1, dropout=0.0, tie_weights=True))
    criterion = nn.NLLLoss()
    lr, clip = 20, 0.25                                         # main.py's defaults (--lr 20 --clip 0.25)
    losses = []
    while len(losses) < steps:                                  # main.py's train(), one call per epoch
        model.train()
        hidden = model.init_hidden(20)
        for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
            data, targets = get_batch(train_data, i)
            model.zero_grad()
            hidden = repackage_hidden(hidden)
            output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)
            losses.append(loss.item())
            if len(losses) == steps:
                break
    return losses, model
