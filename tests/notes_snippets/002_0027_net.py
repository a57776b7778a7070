# Source: /work/shared/seeds/002_d67fcc9f8dff7582.txt, lines 27-53 (slide "Common parent class: nn.Module").
# Runs after: 002_0018_imports.py
# OCR fix: the slide's line numbers and callout text ("Constructor: Defining layers of the
# network", "Forward propagation", "What about backward propagation?") are dropped, the
# indentation is restored, and "x^2 = F.relu(x^1)" is read as "x2 = F.relu(x1)".
class Net(nn.Module):
    def __init__(self, in_features=10, num_classes=2, hidden_features=20):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.fc2 = nn.Linear(hidden_features, num_classes)

    def forward(self, x):
        x1 = self.fc1(x)
        x2 = F.relu(x1)
        x3 = self.fc2(x2)
        log_prob = F.log_softmax(x3, dim=1)
        return log_prob
