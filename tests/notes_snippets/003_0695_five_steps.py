# Source: /work/shared/seeds/003_1d586132f02853ff.txt, lines 695-739 ("Pytorch 5 basic steps").
# OCR fix: the step markers ("1 →" ... "5 →") in front of the five steps are dropped.
# Completed: the notes run this on the spiral data of the preceding section with D=2 inputs,
# H=100 hidden units and C=3 classes; the lines before the snippet build that data (100 points
# per class), the device and the IPython display module the loop calls.
# Shortened: 100 training iterations instead of 1000.
import math

import ember as torch
from ember import nn
from IPython import display

N, D, C, H = 100, 2, 3, 100
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
x = torch.zeros(N * C, D)
y = torch.zeros(N * C, dtype=torch.long)
for c in range(C):
    radius = torch.linspace(0, 1, N)
    angle = torch.linspace(2 * math.pi * c / C, 2 * math.pi * (c + 2) / C, N) + 0.2 * torch.randn(N)
    x[N * c:N * (c + 1)] = torch.stack((radius * torch.sin(angle), radius * torch.cos(angle)), dim=1)
    y[N * c:N * (c + 1)] = c
x, y = x.to(device), y.to(device)

learning_rate = 1e-3
lambda_l2 = 1e-5

# nn package to create our linear model
# each linear module has a weight and bias
model = nn.Sequential(
    nn.Linear(D, H),
    nn.Linear(H, C)
)
model.to(device) #Convert to CUDA

# nn package also has different Loss functions.
# we use cross entropy loss for our classification task
criterion = torch.nn.CrossEntropyLoss()

# we use the optim package to apply
# stochastic gradient descent for our parameter updates
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, weight_decay=lambda_l2) # built-in L2

# Training
for t in range(100):
    # Feed forward to get the logits
    y_pred = model(x)

    # Compute the loss and accuracy
    loss = criterion(y_pred, y)
    score, predicted = torch.max(y_pred, 1)
    acc = (y == predicted).sum().float() / len(y)
    print("[EPOCH]: %i, [LOSS]: %.6f, [ACCURACY]: %.3f" % (t, loss.item(), acc))
    display.clear_output(wait=True)

    # zero the gradients before running
    # the backward pass.
    optimizer.zero_grad()

    # Backward pass to compute the gradient
    # of loss w.r.t our learnable params.
    loss.backward()

    # Update params
    optimizer.step()
