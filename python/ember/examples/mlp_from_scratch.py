"""The notes' "neural net from scratch": a 784-10-10 network trained by full-batch gradient
descent with hand-written forward and backward passes — here on Ember tensors instead of NumPy —
and checked against Ember's autograd on the same parameters at every logged iteration.

Layout follows the notes: examples are columns (X is 784 x N), W1 is 10 x 784, b1 is 10 x 1.
"""
from __future__ import annotations

import ember as torch
from ember.examples._common import Timer, image_classification_data, parse_args, progress, save_curves


def one_hot(y, n_classes=10):
    out = torch.zeros(n_classes, len(y), device=y.device)
    out[y, torch.arange(len(y), device=y.device)] = 1.0
    return out


def softmax_columns(z):
    z = z - z.max(dim=0, keepdim=True).values  # stable: the largest logit becomes 0
    e = z.exp()
    return e / e.sum(dim=0, keepdim=True)


def forward(params, X):
    W1, b1, W2, b2 = params
    Z1 = W1 @ X + b1
    A1 = Z1.relu()
    Z2 = W2 @ A1 + b2
    return Z1, A1, Z2, softmax_columns(Z2)


def backward(params, X, Y, Z1, A1, A2):
    """Gradients of the mean cross-entropy, derived by hand as in the notes."""
    _, _, W2, _ = params
    N = X.shape[1]
    error2 = A2 - one_hot(Y)                      # d loss / d Z2 (softmax + cross-entropy)
    dW2 = error2 @ A1.T / N
    db2 = error2.sum(dim=1, keepdim=True) / N
    error1 = (Z1 > 0) * (W2.T @ error2)           # back through W2 and the ReLU
    dW1 = error1 @ X.T / N
    db1 = error1.sum(dim=1, keepdim=True) / N
    return dW1, db1, dW2, db2


def autograd_gradients(params, X, Y):
    leaves = [p.detach().requires_grad_() for p in params]
    _, _, Z2, _ = forward(leaves, X)
    loss = torch.nn.functional.cross_entropy(Z2.T, Y)
    return torch.autograd.grad(loss, leaves)


def main(argv=None) -> float:
    args = parse_args("mlp_from_scratch", __doc__.splitlines()[0], epochs=500, argv=argv,
                      extra=lambda p: p.add_argument("--lr", type=float, default=0.1))
    data = image_classification_data(args.data, prefer="mnist")

    def stack(ds):
        X = torch.stack([ds[i][0].reshape(-1) for i in range(len(ds))], dim=1)
        Y = torch.tensor([int(ds[i][1]) for i in range(len(ds))])
        return X.to(args.device), Y.to(args.device)

    X_train, Y_train = stack(data.train)
    X_test, Y_test = stack(data.test)
    # the notes initialise uniformly in [-1, 1]; scaled by fan-in here so training starts stably
    params = [torch.empty(10, 784).uniform_(-1, 1) / 28, torch.zeros(10, 1),
              torch.empty(10, 10).uniform_(-1, 1) / 3, torch.zeros(10, 1)]
    params = [p.to(args.device) for p in params]

    iterations = args.epochs if args.max_steps is None else min(args.epochs, args.max_steps)
    accuracy, max_gap = [], 0.0
    with Timer() as timer:
        for i in progress(range(iterations), "gradient descent"):
            Z1, A1, _, A2 = forward(params, X_train)
            grads = backward(params, X_train, Y_train, Z1, A1, A2)
            if i % 50 == 0:  # the hand-derived gradients must equal autograd's
                reference = autograd_gradients(params, X_train, Y_train)
                gap = max((g - r).abs().max().item() for g, r in zip(grads, reference))
                max_gap = max(max_gap, gap)
            params = [p - args.lr * g for p, g in zip(params, grads)]
            accuracy.append((A2.argmax(0) == Y_train).float().mean().item())
    test_acc = (forward(params, X_test)[3].argmax(0) == Y_test).float().mean().item()
    save_curves(f"{args.out}/accuracy.png", {"training accuracy": [100 * a for a in accuracy]}, "iteration",
                f"784-10-10 network on {data.name}, gradients by hand", "accuracy (%)")
    print(f"largest |hand-written - autograd| gradient difference: {max_gap:.2e}")
    print(f"{data.name}: test accuracy {100 * test_acc:.2f}% after {iterations} iterations "
          f"in {timer.seconds:.1f}s on {args.device}")
    return test_acc


if __name__ == "__main__":
    main()
