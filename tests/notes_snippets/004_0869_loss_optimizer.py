# Source: /work/shared/seeds/004_2fea2b37a5701506.txt, lines 869-875 (2.6.4 Optimizing Model Parameters).
# Runs after: 004_0796_model_repr.py
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(
    model.parameters(),      # which parameters to optimize
    lr=1e-3                 # learning rate
)
