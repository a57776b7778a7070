# Source: /work/shared/seeds/004_2fea2b37a5701506.txt, lines 796-812 (2.6.2 Building a Neural Net).
# Runs after: 004_0622_device.py 004_0752_neural_network.py

model = NeuralNetwork().to(device)
print(model)

# NeuralNetwork(
#     (flatten): Flatten(start_dim=1, end_dim=-1)
#     (linear_relu_stack): Sequential(
#         (0): Linear(in_features=784, out_features=512, bias=True)
#         (1): ReLU()
#         (2): Linear(in_features=512, out_features=512, bias=True)
#         (3): ReLU()
#         (4): Linear(in_features=512, out_features=10, bias=True)
#     )
# )
