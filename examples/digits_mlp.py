"""Classify scikit-learn's 8x8 digits with a two-layer perceptron: real data, DataLoader, Adam,
a progress bar, evaluation under no_grad, a checkpoint every epoch and exact --resume.

Run: python examples/digits_mlp.py [--epochs N] [--device cuda] [--out DIR] [--resume] [--quick]
"""
import nn
from common import parse_args, run


def build_model():
    return nn.Sequential(
        nn.Linear(64, 256),        # [B, 64] pixels -> [B, 256]
        nn.ReLU(),
        nn.Dropout(0.1),
        nn.Linear(256, 10),        # -> [B, 10] logits
    )


def build(args):
    model = build_model()
    opt = nn.optim.Adam(model.parameters(), lr=args.lr)
    # cosine decay to zero: the last epochs settle instead of bouncing between minima
    return model, opt, nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], epochs=30, lr=3e-3, batch_size=32, argv=argv)
    return run("digits_mlp", build, args)


if __name__ == "__main__":
    main()
