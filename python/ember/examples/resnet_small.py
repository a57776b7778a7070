"""A small ResNet: residual blocks with BatchNorm, global average pooling, data augmentation
(random crops with padding, horizontal flips for Fashion-MNIST), SGD with momentum and weight
decay, and a cosine learning-rate schedule. Compared with LeNet-5 on the same data."""
from __future__ import annotations

import ember as torch
import ember.nn.functional as F
from ember import nn
from ember.examples._common import (Timer, epoch_bar, evaluate_classifier, image_classification_data, parse_args,
                                    save_curves, steps_per_epoch)
from ember.utils.data import DataLoader
from ember.vision import transforms


class BasicBlock(nn.Module):
    """conv-BN-ReLU-conv-BN plus the input (projected by a 1x1 conv when the shape changes)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_channels))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class ResNetSmall(nn.Module):
    def __init__(self, num_classes: int = 10, widths=(16, 32, 64)):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, padding=1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        blocks, channels = [], widths[0]
        for i, w in enumerate(widths):
            blocks.append(BasicBlock(channels, w, stride=1 if i == 0 else 2))
            channels = w
        self.layers = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        x = self.pool(self.layers(self.stem(x)))
        return self.fc(torch.flatten(x, 1))


def main(argv=None) -> float:
    args = parse_args("resnet_small", __doc__.splitlines()[0], epochs=None, argv=argv)
    data = image_classification_data(args.data, "fashion")  # test images: ToTensor only
    augment = [transforms.RandomCrop(28, padding=2)]
    if data.name != "Digits":  # mirrored digits are different digits; mirrored clothes are clothes
        augment.append(transforms.RandomHorizontalFlip())
    data.train.transform = transforms.Compose(augment + [transforms.ToTensor()])
    epochs = args.epochs or (6 if data.name != "Digits" else 20)
    train_loader = DataLoader(data.train, batch_size=128, shuffle=True)
    test_loader = DataLoader(data.test, batch_size=256)
    model = ResNetSmall().to(args.device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
    steps = epochs * steps_per_epoch(train_loader, args.max_steps)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    losses, accuracies, lrs = [], [], []
    with Timer() as timer:
        for epoch in range(epochs):
            model.train()
            for X, y in epoch_bar(train_loader, args.max_steps, epoch, epochs):
                X, y = X.to(args.device), y.to(args.device)
                loss = F.cross_entropy(model(X), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                scheduler.step()
                losses.append(loss.item())
                lrs.append(scheduler.get_last_lr()[0])
            acc, test_loss = evaluate_classifier(model, test_loader, args.device, args.max_steps)
            accuracies.append(acc)
            print(f"epoch {epoch + 1}: test loss {test_loss:.4f}  test accuracy {100 * acc:.2f}%")
    save_curves(f"{args.out}/loss.png", {"training loss per batch": losses}, "batch",
                f"ResNet-small on {data.name}", "cross-entropy", smooth=50)
    save_curves(f"{args.out}/accuracy.png", {"test accuracy": [100 * a for a in accuracies]}, "epoch",
                f"ResNet-small on {data.name}", "accuracy (%)")
    save_curves(f"{args.out}/lr.png", {"learning rate": lrs}, "batch", "cosine learning-rate schedule", "lr")
    print(f"ResNet-small ({sum(p.numel() for p in model.parameters()):,} parameters) on {data.name}: "
          f"test accuracy {100 * accuracies[-1]:.2f}% in {timer.seconds:.1f}s on {args.device}")
    return accuracies[-1]


if __name__ == "__main__":
    main()
