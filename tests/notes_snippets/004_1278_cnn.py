# Source: /work/shared/seeds/004_2fea2b37a5701506.txt, lines 1278-1299 (5.3 Implementation in PyTorch).
# Runs after: 004_0622_device.py 004_0752_neural_network.py
# Completed: the notes use F without importing it (the import is added) and only define the
# class; the last two lines build it and run it on a batch of CIFAR-sized 3x32x32 images.
import ember.nn.functional as F

class NeuralNetwork(nn.Module):
    # Convolutional Neural Network

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1) # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x

model = NeuralNetwork().to(device)
print(model(torch.rand(4, 3, 32, 32, device=device)).size())
