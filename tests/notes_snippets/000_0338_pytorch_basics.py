# Source: /work/shared/seeds/000_6b516b0555ca16ad.txt, lines 338-356 ("PyTorch Implementations").
# The notes give this code inline in the prose (torch.manual_seed(), nn.Linear(in, out), a
# subclass of nn.Module with forward(), F.relu, the four losses, an optimizer over
# model.parameters() and the five training steps); it is assembled here into the smallest
# program that uses each piece as the prose describes, on 16 random 2-D points.
import ember as torch
from ember import nn, optim
import ember.nn.functional as F

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 8)
        self.fc2 = nn.Linear(8, 1)

    def forward(self, x):
        # no activation on the final layer: the loss applies it
        return self.fc2(F.relu(self.fc1(x)))


inputs = torch.randn(16, 1, 2)
targets = (inputs[:, :, :1] > 0).float()

model = Net()
criterion = nn.BCEWithLogitsLoss()
optimizer = optim.SGD(model.parameters(), lr=0.1)
for input, labels in zip(inputs, targets):  # for each sample in the training dataset
    out = model(input)                      # 1. prediction
    loss = criterion(out, labels)           # 2. loss
    loss.backward()                         # 3. gradients
    optimizer.step()                        # 4. update
    optimizer.zero_grad()                   # 5. clean up

# BCEWithLogitsLoss applies the sigmoid itself, BCELoss does not;
# CrossEntropyLoss applies the (log-)softmax itself, NLLLoss expects log-probabilities.
logits = model(inputs[:, 0])
bce_with_logits = nn.BCEWithLogitsLoss()(logits, targets[:, 0])
bce = nn.BCELoss()(torch.sigmoid(logits), targets[:, 0])
class_logits = torch.randn(16, 3)
classes = torch.randint(0, 3, (16,))
cross_entropy = nn.CrossEntropyLoss()(class_logits, classes)
nll = nn.NLLLoss()(F.log_softmax(class_logits, dim=1), classes)
print(bce_with_logits.item(), bce.item())
print(cross_entropy.item(), nll.item())
