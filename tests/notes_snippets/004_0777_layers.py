# Source: /work/shared/seeds/004_2fea2b37a5701506.txt, lines 777-792 (2.6.2 Building a Neural Net).
# Runs after: 004_0622_device.py 004_0752_neural_network.py

X = torch.rand(3, 28, 28)
Y = torch.rand(3, 8)

flatten = nn.Flatten()      # flattens from dim=1
linear = nn.Linear(8, 4)    # linear map
relu = nn.ReLU()           # ReLU map
softmax = nn.Softmax(dim=1) # Softmax map

print(flatten(X).size())   # torch.Size([3, 784])
print(linear(Y).size())    # torch.Size([3, 4])
print(relu(Y).size())      # torch.Size([3, 8])
print(softmax(Y).size())   # torch.Size([3, 8])
