# Source: /work/shared/seeds/003_1d586132f02853ff.txt, lines 975-994 ("bceloss vs crossentropyloss").
# Completed: imports added; the last lines run the model on a batch of flattened 28x28 images
# and compute the BCE loss against 0/1 targets.
import ember as torch
from ember import nn

# Binary classification
class NeuralNet1(nn.Module):
    def __init__(self, input_size, hidden_size):
        super(NeuralNet1, self).__init__()
        self.linear1 = nn.Linear(input_size, hidden_size)
        self.relu = nn.ReLU()
        self.linear2 = nn.Linear(hidden_size, 1)

    def forward(self, x):
        out = self.linear1(x)
        out = self.relu(out)
        out = self.linear2(out)
        # sigmoid at the end
        y_pred = torch.sigmoid(out)
        return y_pred

model = NeuralNet1(input_size=28*28, hidden_size=5)
criterion = nn.BCELoss()

images = torch.rand(8, 28 * 28)
labels = torch.randint(0, 2, (8, 1)).float()
loss = criterion(model(images), labels)
loss.backward()
