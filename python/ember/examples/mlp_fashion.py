"""The course notes' quick start: a 784-512-512-10 multilayer perceptron trained with SGD.

    Flatten -> Linear(784, 512) -> ReLU -> Linear(512, 512) -> ReLU -> Linear(512, 10)

Trains on Fashion-MNIST when its files are available (put the four IDX files in ./data or
install Debian's dataset-fashion-mnist), otherwise on scikit-learn's bundled digits at 28x28.
SGD runs at lr 0.05 with momentum 0.9: the notes' plain lr=1e-3 would need far more than 5
epochs to pass 85%. ``--dropout 0.2`` adds the notes' dropout variant. Prints the test accuracy;
saves the loss and accuracy curves and a grid of test predictions under runs/mlp_fashion/.
"""
from __future__ import annotations

import ember as torch
from ember import nn
from ember.examples._common import (Timer, epoch_bar, evaluate_classifier, image_classification_data, parse_args,
                                    save_curves, save_image_grid)
from ember.utils.data import DataLoader


class NeuralNetwork(nn.Module):
    def __init__(self, dropout: float = 0.0):
        super().__init__()
        self.flatten = nn.Flatten()
        layers = [nn.Linear(28 * 28, 512), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers += [nn.Linear(512, 512), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(512, 10))
        self.linear_relu_stack = nn.Sequential(*layers)

    def forward(self, x):
        return self.linear_relu_stack(self.flatten(x))


def save_predictions(path: str, model, loader, classes, device, n: int = 32) -> None:
    """The first ``n`` test images captioned with the predicted class (green: right, red: wrong)."""
    X, y = next(iter(loader))
    model.eval()
    with torch.no_grad():
        pred = model(X[:n].to(device)).argmax(1).cpu().tolist()
    save_image_grid(path, X[:n], captions=[classes[p] for p in pred],
                    caption_colors=["green" if p == t else "red" for p, t in zip(pred, y[:n].tolist())],
                    title="test images and predicted classes (red: wrong)")


def main(argv=None) -> float:
    args = parse_args("mlp_fashion", __doc__.splitlines()[0], epochs=None, argv=argv, extra=lambda p: (
        p.add_argument("--dropout", type=float, default=0.0, help="dropout after each hidden layer"),
        p.add_argument("--lr", type=float, default=0.05),
        p.add_argument("--batch-size", type=int, default=64)))
    data = image_classification_data(args.data, prefer="fashion")
    epochs = args.epochs or (5 if data.name != "Digits" else 30)  # the digits are 1/40 the size
    train_loader = DataLoader(data.train, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(data.test, batch_size=256)
    model = NeuralNetwork(args.dropout).to(args.device)
    print(model)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)

    losses, accuracies = [], []
    with Timer() as timer:
        for epoch in range(epochs):
            model.train()
            bar = epoch_bar(train_loader, args.max_steps, epoch, epochs)
            for X, y in bar:
                X, y = X.to(args.device), y.to(args.device)
                loss = loss_fn(model(X), y)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()
                losses.append(loss.item())
                if hasattr(bar, "set_postfix"):
                    bar.set_postfix(loss=f"{losses[-1]:.3f}")
            acc, test_loss = evaluate_classifier(model, test_loader, args.device, args.max_steps)
            accuracies.append(acc)
            print(f"epoch {epoch + 1}: train loss {sum(losses[-50:]) / len(losses[-50:]):.4f}  "
                  f"test loss {test_loss:.4f}  test accuracy {100 * acc:.1f}%")

    save_curves(f"{args.out}/loss.png", {"training loss per batch": losses}, "batch",
                f"MLP on {data.name}", "cross-entropy", smooth=50)
    save_curves(f"{args.out}/accuracy.png", {"test accuracy": [100 * a for a in accuracies]}, "epoch",
                f"MLP on {data.name}", "accuracy (%)")
    save_predictions(f"{args.out}/predictions.png", model, test_loader, data.classes, args.device)
    print(f"{data.name}: test accuracy {100 * accuracies[-1]:.2f}% after {epochs} epochs "
          f"in {timer.seconds:.1f}s on {args.device}")
    return accuracies[-1]


if __name__ == "__main__":
    main()
