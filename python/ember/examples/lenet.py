"""LeNet-5 as the notes write it (OrderedDict Sequential, 32x32 input, 61,706 parameters),
trained with Adam and a cosine learning-rate decay on Fashion-MNIST (>= 89% test accuracy) or,
offline, on the bundled digits (>= 97%). Saves the weights to runs/lenet/lenet.pt (the
adversarial example attacks them), the loss/accuracy curves and the first layer's filters."""
from __future__ import annotations

from collections import OrderedDict

import ember as torch
import ember.nn.functional as F
from ember import nn
from ember.examples._common import (Timer, epoch_bar, evaluate_classifier, image_classification_data, parse_args,
                                    save_curves, save_image_grid, steps_per_epoch)
from ember.utils.data import DataLoader
from ember.vision import transforms


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        # one line per layer of the paper: C1, S2, C3, S4, C5 convolve and pool; F6, F7 classify
        self.convnet = nn.Sequential(OrderedDict([
            ("c1", nn.Conv2d(1, 6, kernel_size=(5, 5))), ("relu1", nn.ReLU()),
            ("s2", nn.MaxPool2d(kernel_size=(2, 2), stride=2)),
            ("c3", nn.Conv2d(6, 16, kernel_size=(5, 5))), ("relu3", nn.ReLU()),
            ("s4", nn.MaxPool2d(kernel_size=(2, 2), stride=2)),
            ("c5", nn.Conv2d(16, 120, kernel_size=(5, 5))), ("relu5", nn.ReLU()),
        ]))
        self.fc = nn.Sequential(OrderedDict([
            ("f6", nn.Linear(120, 84)), ("relu6", nn.ReLU()),
            ("f7", nn.Linear(84, 10)), ("sig7", nn.LogSoftmax(dim=-1)),
        ]))

    def forward(self, img):
        output = self.convnet(img)
        output = output.view(img.size(0), -1)
        return self.fc(output)


def pad_to_32(x):
    """28x28 images -> the 32x32 input LeNet-5 was designed for."""
    return F.pad(x, (2, 2, 2, 2))


def lenet_data(root: str):
    return image_classification_data(root, "fashion", transforms.Compose([transforms.ToTensor(),
                                                                          transforms.Lambda(pad_to_32)]))


def train_lenet(args, data, log=print):
    train_loader = DataLoader(data.train, batch_size=64, shuffle=True)
    test_loader = DataLoader(data.test, batch_size=256)
    model = LeNet5().to(args.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.NLLLoss()  # the model ends in LogSoftmax
    epochs = args.epochs or (8 if data.name != "Digits" else 30)
    # decaying the step size to zero settles Adam into a better minimum than a constant rate
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=epochs * steps_per_epoch(train_loader, args.max_steps))
    losses, accuracies = [], []
    for epoch in range(epochs):
        for X, y in epoch_bar(train_loader, args.max_steps, epoch, epochs):
            X, y = X.to(args.device), y.to(args.device)
            loss = loss_fn(model(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
        acc, test_loss = evaluate_classifier(model, test_loader, args.device, args.max_steps)
        accuracies.append(acc)
        log(f"epoch {epoch + 1}: test loss {test_loss:.4f}  test accuracy {100 * acc:.2f}%")
    return model, losses, accuracies


def main(argv=None) -> float:
    args = parse_args("lenet", __doc__.splitlines()[0], epochs=None, argv=argv)
    data = lenet_data(args.data)
    with Timer() as timer:
        model, losses, accuracies = train_lenet(args, data)
    n_params = sum(p.numel() for p in model.parameters())
    torch.save(model.state_dict(), f"{args.out}/lenet.pt")
    save_curves(f"{args.out}/loss.png", {"training loss per batch": losses}, "batch",
                f"LeNet-5 on {data.name}", "negative log-likelihood", smooth=50)
    save_curves(f"{args.out}/accuracy.png", {"test accuracy": [100 * a for a in accuracies]}, "epoch",
                f"LeNet-5 on {data.name}", "accuracy (%)")
    w = model.convnet.c1.weight.detach().cpu()
    w = (w - w.min()) / (w.max() - w.min())  # one shared scale, so filters compare by brightness
    save_image_grid(f"{args.out}/c1_filters.png", w, nrow=6, title="c1: the six learned 5x5 filters",
                    captions=[f"filter {i + 1}" for i in range(len(w))])
    print(f"LeNet-5 ({n_params:,} parameters) on {data.name}: test accuracy {100 * accuracies[-1]:.2f}% "
          f"in {timer.seconds:.1f}s on {args.device}")
    return accuracies[-1]


if __name__ == "__main__":
    main()
