# Source: /work/shared/seeds/004_2fea2b37a5701506.txt, lines 713-728 (2.6.1 Datasets).
# Runs after: 004_0647_fashion_mnist.py
from ember.utils.data import DataLoader

train_dataloader = DataLoader(training_data,      # our dataset
                             batch_size=64,    # batch size
                             shuffle=True     # shuffling the data
                           )
test_dataloader = DataLoader(test_data, batch_size=64, shuffle=True)

train_features, train_labels = next(iter(train_dataloader))
print(f"Feature batch shape: {train_features.size()}")
print(f"Labels batch shape: {train_labels.size()}")

# Feature batch shape: torch.Size([64, 1, 28, 28])
# Labels batch shape: torch.Size([64])
