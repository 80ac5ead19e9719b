"""Classify scikit-learn's 8x8 digits with a small convolutional network (Conv2d, BatchNorm2d,
MaxPool2d), trained like digits_mlp.py: DataLoader, AdamW with cosine decay, checkpoints, --resume.

Run: python examples/digits_cnn.py [--epochs N] [--device cuda] [--out DIR] [--resume] [--quick]
"""
import nn
from common import parse_args, run


def build_model():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),    # [B, 1, 8, 8] -> [B, 32, 8, 8]
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),                   # -> [B, 32, 4, 4]
        nn.Conv2d(32, 64, 3, padding=1),   # -> [B, 64, 4, 4]
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.MaxPool2d(2),                   # -> [B, 64, 2, 2]
        nn.Flatten(),                      # -> [B, 256]
        nn.Dropout(0.3),
        nn.Linear(64 * 2 * 2, 10),         # -> [B, 10] logits
    )


def build(args):
    model = build_model()
    opt = nn.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-2)
    return model, opt, nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], epochs=20, lr=3e-3, batch_size=32, argv=argv)
    return run("digits_cnn", build, args, images=True)


if __name__ == "__main__":
    main()
