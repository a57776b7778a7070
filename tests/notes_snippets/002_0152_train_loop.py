# Source: /work/shared/seeds/002_d67fcc9f8dff7582.txt, lines 152-164 (slide "Pytorch Training Loop").
# Runs after: 002_0027_net.py
# OCR fix: the slide's line numbers, <pre> tags and callouts ("Looping over mini-batches", "Zero
# out all old gradients", ...) are dropped; "optimizerenoch" is "optimizer, epoch",
# "data.te(device) target te(device)" is "data.to(device), target.to(device)" and
# "$loss = F.nll_loss(output target)$" is "loss = F.nll_loss(output, target)".
# Completed: the slide only defines train(); the lines after it build the smallest program that
# calls it (args with log_interval, the Net above, a loader of 64 random samples, SGD).
def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))


import argparse
from ember.utils.data import DataLoader, TensorDataset

args = argparse.Namespace(log_interval=2)
device = torch.device("cpu")
model = Net().to(device)
train_loader = DataLoader(TensorDataset(torch.randn(64, 10), torch.randint(0, 2, (64,))),
                          batch_size=16, shuffle=True)
optimizer = optim.SGD(model.parameters(), lr=0.1)
for epoch in range(1, 3):
    train(args, model, device, train_loader, optimizer, epoch)
