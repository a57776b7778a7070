# Source: /work/shared/seeds/001_c56490fc77ac6654.txt, lines 633-640 ("Vanillin RNN cell").
# Completed: the notes show only forward(), indented as a method; it is put in the smallest
# module it needs (i2h and i2o linear maps on the concatenated input and hidden state, a
# LogSoftmax over the classes), and the last lines run it over a sequence from a zero hidden state.
import ember as torch
from ember import nn


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(input_size + hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = self.i2h(combined)
        output = self.i2o(combined)
        output = self.softmax(output)
        return output, hidden


rnn = RNN(input_size=8, hidden_size=16, output_size=4)
sequence = torch.randn(5, 1, 8)  # 5 time steps, batch of 1
hidden = torch.zeros(1, rnn.hidden_size)
for step in sequence:
    output, hidden = rnn(step, hidden)
print(output.size(), hidden.size())
