# Source: /work/shared/seeds/004_2fea2b37a5701506.txt, lines 2353-2375 (11.4.1 PyTorch Implementation).
# Runs after: 004_0622_device.py 004_0752_neural_network.py
# OCR fix: the notes' comprehension reads "for weight in rnn.all_weights for weight in weights";
# the outer loop variable is "weights" (one list per layer).

input_features = 10
hidden_features = 20
num_layers = 2
sequence_length = 5

 
rnn = nn.RNN(input_features, hidden_features, num_layers)
input = torch.randn(sequence_length, input_features)
h0 = torch.randn(num_layers, hidden_features)
print(input.size(), h0.size())
# torch.Size([5, 10]) torch.Size([2, 20])

print([weight.data.size() for weights in rnn.all_weights for weight in weights])
# [torch.Size([20, 10]), torch.Size([20, 20]), torch.Size([20]), torch.Size([20]),
# torch.Size([20, 20]), torch.Size([20, 20]), torch.Size([20]), torch.Size([20])]

output, hn = rnn(input, h0)
print(output.size(), hn.size())
# torch.Size([5, 20]) torch.Size([2, 20])
