# Source: /work/shared/seeds/004_2fea2b37a5701506.txt, lines 1086-1092 (4.3 Dropout).
# Runs after: 004_0622_device.py 004_0752_neural_network.py
drop = nn.Dropout(p=0.5, inplace=False)
X = torch.rand(4)
print(X)          # tensor([0.3342, 0.8208, 0.3765, 0.1820])
print(drop(X))   # tensor([0.6684, 1.6417, 0.0000, 0.0000])
print(X)          # tensor([0.3342, 0.8208, 0.3765, 0.1820])
