"""A PyTorch program ported to tapegrad by changing its imports, and nothing else.

The network is the seeds' feedforward example (input 5, hidden 10, output 3, batch 4). In PyTorch
the imports read

    import torch                      # here: import autograd
    import torch.nn as nn             # here: import nn
    from torch import optim           # here: from nn import optim

and every `torch.` in the body reads `autograd.`. tests/test_examples.py runs this very file under
PyTorch (substituting those three import lines) from the same initial weights and checks that the
losses agree step by step.

Run: python examples/pytorch_port.py
"""
import autograd
import nn
from nn import optim


class FeedForwardNet(nn.Module):
    def __init__(self, input_dim, hidden_dim, output_dim):
        super().__init__()
        self.fc1 = nn.Linear(input_dim, hidden_dim)    # weight [hidden_dim, input_dim], bias [hidden_dim]
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(hidden_dim, output_dim)   # weight [output_dim, hidden_dim], bias [output_dim]

    def forward(self, x):
        # Input x shape: [batch_size, input_dim]      [4, 5]
        z1 = self.fc1(x)        # x @ W1.T + b1:   [4, 5] @ [5, 10] + [10] -> [4, 10]
        a1 = self.relu(z1)      # elementwise:                                 [4, 10]
        logits = self.fc2(a1)   # a1 @ W2.T + b2:  [4, 10] @ [10, 3] + [3] -> [4, 3]
        return logits


def train(model, x, y, steps=20, lr=0.1):
    """The minimal training loop; returns the loss before each step."""
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    losses = []
    for _ in range(steps):
        yhat = model(x)               # [4, 3] logits
        loss = criterion(yhat, y)     # [] mean over the batch of -log softmax(yhat)[i, y[i]]
        loss.backward()               # fills .grad of fc1.weight [10, 5], fc1.bias [10], fc2.weight [3, 10], fc2.bias [3]
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses


def main():
    autograd.manual_seed(0)
    model = FeedForwardNet(input_dim=5, hidden_dim=10, output_dim=3)
    x = autograd.randn(4, 5)                 # a batch of 4 samples
    y = autograd.tensor([0, 2, 1, 2])        # their classes
    out = model(x)
    print("Forward output shape:", out.shape)          # autograd.Size([4, 3]) (torch.Size([4, 3]) in torch)
    losses = train(model, x, y)
    print("loss per step:", " ".join(f"{v:.4f}" for v in losses))
    with autograd.no_grad():
        pred = model(x).argmax(dim=1)
    print("predicted classes:", pred.tolist(), "targets:", y.tolist())


if __name__ == "__main__":
    main()
