"""Modelled on pytorch/examples word_language_model's TransformerModel and the "language modeling with
nn.Transformer" tutorial: PositionalEncoding with a registered `pe` buffer built from arange, exp and
sin/cos slices, nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout) stacked by
nn.TransformerEncoder, nn.Transformer.generate_square_subsequent_mask as the causal mask, an
Embedding scaled by sqrt(d_model), CrossEntropyLoss, clip_grad_norm_(0.5), SGD + StepLR(gamma=0.95)."""
import math

import numpy as np


def imports(lib):
    if lib == "torch":
        import torch
        from torch import nn
    else:
        import autograd as torch
        import nn
    return torch, nn


def program(lib, H, steps=10):
    torch, nn = imports(lib)

    class PositionalEncoding(nn.Module):
        def __init__(self, d_model, dropout=0.1, max_len=64):
            super().__init__()
            self.dropout = nn.Dropout(p=dropout)
            position = torch.arange(max_len).unsqueeze(1)
            div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
            pe = torch.zeros(max_len, 1, d_model)
            pe[:, 0, 0::2] = torch.sin(position * div_term)
            pe[:, 0, 1::2] = torch.cos(position * div_term)
            self.register_buffer('pe', pe)

        def forward(self, x):
            x = x + self.pe[:x.size(0)]
            return self.dropout(x)

    class TransformerModel(nn.Module):
        def __init__(self, ntoken, d_model, nhead, d_hid, nlayers, dropout=0.5):
            super().__init__()
            self.model_type = 'Transformer'
            self.pos_encoder = PositionalEncoding(d_model, dropout)
            encoder_layers = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout)
            self.transformer_encoder = nn.TransformerEncoder(encoder_layers, nlayers, enable_nested_tensor=False)
            self.embedding = nn.Embedding(ntoken, d_model)
            self.d_model = d_model
            self.linear = nn.Linear(d_model, ntoken)
            self.init_weights()

        def init_weights(self):
            initrange = 0.1
            self.embedding.weight.data.uniform_(-initrange, initrange)
            self.linear.bias.data.zero_()
            self.linear.weight.data.uniform_(-initrange, initrange)

        def forward(self, src, src_mask=None):
            src = self.embedding(src) * math.sqrt(self.d_model)
            src = self.pos_encoder(src)
            if src_mask is None:
                src_mask = nn.Transformer.generate_square_subsequent_mask(len(src))
            output = self.transformer_encoder(src, src_mask)
            output = self.linear(output)
            return output

    ntokens, bptt = 24, 12
    rng = np.random.default_rng(10)
    stream = (np.cumsum(rng.integers(1, 3, 1200)) % ntokens).astype("int64")
    train_data = torch.tensor(stream).view(8, -1).t().contiguous()
    model = H.init(TransformerModel(ntokens, 16, 2, 32, 2, dropout=0.0))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.95)
    model.train()
    losses = []
    for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
        if batch == steps:
            break
        seq_len = min(bptt, len(train_data) - 1 - i)
        data = train_data[i:i + seq_len]
        targets = train_data[i + 1:i + 1 + seq_len].reshape(-1)
        output = model(data)
        output_flat = output.view(-1, ntokens)
        loss = criterion(output_flat, targets)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        losses.append(loss.item())
        if batch % 4 == 3:
            scheduler.step()
    return losses, model
