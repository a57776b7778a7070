# Source: /work/shared/seeds/000_6b516b0555ca16ad.txt, lines 819-832, 902-903 and 927-932
# (RNNs, GRUs, LSTMs, deep and bidirectional RNNs).
# The notes give these calls inline in the prose; they are assembled here into the smallest
# program that uses them as described. Where the prose disagrees with PyTorch, PyTorch wins:
# "torch.zeroes" is torch.zeros, and nn.LSTM takes one int hidden_size (not a tuple of the
# long- and short-term memory sizes) and is called with the tuple (h0, c0).
import ember as torch
from ember import nn

input_size, hidden_size = 50, 32
x = torch.randn(4, 7, input_size)  # a batch of 4 sequences of 7 word embeddings

rnn = nn.RNN(input_size, hidden_size, batch_first=True)
h0 = torch.zeros(1, x.size(0), hidden_size)
output, hidden = rnn(x, h0)
last = output[:, -1, :]
print(output.shape, hidden.shape, last.shape)

gru = nn.GRU(input_size, hidden_size, batch_first=True)  # a drop-in replacement for nn.RNN
output, hidden = gru(x, h0)
print(output.shape, hidden.shape)

lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
c0 = torch.zeros(1, x.size(0), hidden_size)
output, (hidden, cell) = lstm(x, (h0, c0))
print(output.shape, hidden.shape, cell.shape)

# bidirectional doubles the number of initial/final hidden states and the output size
deep = nn.GRU(input_size, hidden_size, num_layers=2, bidirectional=True, batch_first=True)
h0 = torch.zeros(2 * 2, x.size(0), hidden_size)
output, hidden = deep(x, h0)
print(output.shape, hidden.shape)
