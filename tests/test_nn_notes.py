"""The course notes' nn snippets (/work/shared/seeds), run with only the import line changed
(``import ember as torch``). Where the notes' text was mangled by OCR (``x^2 = F.relu(x^1)``, the
``for weight in weights`` list comprehension, 4-space repr indentation) PyTorch's behaviour is used.
Data sets are replaced by small random tensors of the same shapes."""
from collections import OrderedDict

import ember as torch
import ember.nn.functional as F
import numpy as np
import pytest
from ember import nn, optim
from ember.utils.data import DataLoader, TensorDataset


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_device_selection():
    device = (
        "cuda"
        if torch.cuda.is_available()
        else "mps"
        if torch.backends.mps.is_available()
        else "cpu"
    )
    assert device in ("cuda", "cpu")


def test_lecture2_net_with_nll_loss():
    class Net(nn.Module):
        def __init__(self, in_features=10, num_classes=2, hidden_features=20):
            super(Net, self).__init__()  # noqa: UP008  (as in the notes)
            self.fc1 = nn.Linear(in_features, hidden_features)
            self.fc2 = nn.Linear(hidden_features, num_classes)

        def forward(self, x):
            x1 = self.fc1(x)
            x2 = F.relu(x1)
            x3 = self.fc2(x2)
            log_prob = F.log_softmax(x3, dim=1)
            return log_prob

    model = Net()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    data, target = torch.randn(32, 10), (torch.randn(32) > 0).long()
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_five_basic_steps(capsys):
    D, H, C = 6, 16, 3
    x, y = torch.randn(30, D), torch.randint(0, C, (30,))
    learning_rate = 1e-1
    lambda_l2 = 1e-5
    device = "cpu"
    model = nn.Sequential(
        nn.Linear(D, H),
        nn.Linear(H, C)
    )
    model.to(device)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, weight_decay=lambda_l2)
    for t in range(30):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        score, predicted = torch.max(y_pred, 1)  # noqa: RUF059
        acc = (y == predicted).sum().float() / len(y)
        print("[EPOCH]: %i, [LOSS]: %.6f, [ACCURACY]: %.3f" % (t, loss.item(), acc))  # noqa: UP031
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert "[EPOCH]: 29, [LOSS]: " in capsys.readouterr().out


def test_binary_classifier_and_fc2layer():
    class NeuralNet1(nn.Module):
        def __init__(self, input_size, hidden_size):
            super(NeuralNet1, self).__init__()  # noqa: UP008  (as in the notes)
            self.linear1 = nn.Linear(input_size, hidden_size)
            self.relu = nn.ReLU()
            self.linear2 = nn.Linear(hidden_size, 1)

        def forward(self, x):
            out = self.linear1(x)
            out = self.relu(out)
            out = self.linear2(out)
            y_pred = torch.sigmoid(out)
            return y_pred

    model = NeuralNet1(input_size=28 * 28, hidden_size=5)
    criterion = nn.BCELoss()
    loss = criterion(model(torch.rand(4, 784)), torch.ones(4, 1))
    loss.backward()
    assert loss.item() > 0 and model.linear1.weight.grad.shape == (5, 784)

    class FC2Layer(nn.Module):
        def __init__(self, input_size, n_hidden, output_size):
            super(FC2Layer, self).__init__()  # noqa: UP008  (as in the notes)
            self.input_size = input_size
            self.network = nn.Sequential(
                nn.Linear(input_size, n_hidden),
                nn.ReLU(),
                nn.Linear(n_hidden, n_hidden),
                nn.ReLU(),
                nn.Linear(n_hidden, output_size),
                nn.LogSoftmax(dim=1)
            )

        def forward(self, x):
            x = x.view(-1, self.input_size)
            return self.network(x)

    model = FC2Layer(28 * 28, 8, 10)
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    data, target = torch.rand(5, 1, 28, 28), torch.randint(0, 10, (5,))
    optimizer.zero_grad()
    output = model(data)
    loss = F.nll_loss(output, target)
    loss.backward()
    optimizer.step()
    assert output.shape == (5, 10)


def test_lenet5_with_ordered_dict():
    class LeNet5(nn.Module):
        def __init__(self):
            super(LeNet5, self).__init__()  # noqa: UP008  (as in the notes)

            self.convnet = nn.Sequential(OrderedDict([
                ('c1', nn.Conv2d(1, 6, kernel_size=(5, 5))),
                ('relu1', nn.ReLU()),
                ('s2', nn.MaxPool2d(kernel_size=(2, 2), stride=2)),
                ('c3', nn.Conv2d(6, 16, kernel_size=(5, 5))),
                ('relu3', nn.ReLU()),
                ('s4', nn.MaxPool2d(kernel_size=(2, 2), stride=2)),
                ('c5', nn.Conv2d(16, 120, kernel_size=(5, 5))),
                ('relu5', nn.ReLU())
            ]))

            self.fc = nn.Sequential(OrderedDict([
                ('f6', nn.Linear(120, 84)),
                ('relu6', nn.ReLU()),
                ('f7', nn.Linear(84, 10)),
                ('sig7', nn.LogSoftmax(dim=-1))
            ]))

        def forward(self, img):
            output = self.convnet(img)
            output = output.view(img.size(0), -1)
            output = self.fc(output)
            return output

    net = LeNet5()
    assert sum(p.numel() for p in net.parameters()) == 61706
    assert net(torch.randn(2, 1, 32, 32)).shape == (2, 10)


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28*28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def test_quickstart_modules_print_and_parameters(capsys):
    X = torch.rand(3, 28, 28)
    Y = torch.rand(3, 8)
    flatten = nn.Flatten()
    linear = nn.Linear(8, 4)
    relu = nn.ReLU()
    softmax = nn.Softmax(dim=1)
    assert flatten(X).size() == torch.Size([3, 784])
    assert linear(Y).size() == torch.Size([3, 4])
    assert relu(Y).size() == torch.Size([3, 8])
    assert softmax(Y).size() == torch.Size([3, 8])

    device = "cpu"
    model = NeuralNetwork().to(device)
    print(model)
    assert capsys.readouterr().out == (
        "NeuralNetwork(\n"
        "  (flatten): Flatten(start_dim=1, end_dim=-1)\n"
        "  (linear_relu_stack): Sequential(\n"
        "    (0): Linear(in_features=784, out_features=512, bias=True)\n"
        "    (1): ReLU()\n"
        "    (2): Linear(in_features=512, out_features=512, bias=True)\n"
        "    (3): ReLU()\n"
        "    (4): Linear(in_features=512, out_features=10, bias=True)\n"
        "  )\n"
        ")\n")
    X = torch.rand(3, 28, 28, device=device)
    logits = model(X)
    pred_probab = nn.Softmax(dim=1)(logits)
    y_pred = pred_probab.argmax(1)
    print(f"Predicted class: {y_pred}")
    assert y_pred.shape == (3,)
    for name, param in model.named_parameters():
        print(f"Layer: {name} | Size: {param.size()} | Values : {param[:2]} \n")
    out = capsys.readouterr().out
    assert "Layer: linear_relu_stack.0.weight | Size: ember.Size([512, 784]) | Values : " in out


def test_quickstart_train_and_test_loops(capsys):
    device = "cpu"
    model = NeuralNetwork().to(device)
    data = TensorDataset(torch.rand(32, 1, 28, 28), torch.randint(0, 10, (32,)))
    train_dataloader = DataLoader(data, batch_size=16)
    test_dataloader = DataLoader(data, batch_size=16)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(
        model.parameters(),      # which parameters to optimize
        lr=1e-3                 # learning rate
    )

    def train(dataloader, model, loss_fn, optimizer):
        size = len(dataloader.dataset)
        model.train()
        for batch, (X, y) in enumerate(dataloader):
            X, y = X.to(device), y.to(device)
            pred = model(X)
            loss = loss_fn(pred, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            if batch % 100 == 0:
                loss, current = loss.item(), (batch + 1) * len(X)
                print(f"loss: {loss:>7f} [{current:>5d}/{size:>5d}]")

    def test(dataloader, model, loss_fn):
        size = len(dataloader.dataset)
        num_batches = len(dataloader)
        model.eval()
        test_loss, correct = 0, 0
        with torch.no_grad():
            for X, y in dataloader:
                X, y = X.to(device), y.to(device)
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y.type(torch.float)).sum().item()
        test_loss /= num_batches
        correct /= size
        print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
        return test_loss

    epochs = 2
    for t in range(epochs):
        print(f"Epoch {t+1}\n-----")
        train(train_dataloader, model, loss_fn, optimizer)
        test(test_dataloader, model, loss_fn)
    print("Done!")
    out = capsys.readouterr().out
    assert "Epoch 2" in out and "Accuracy:" in out and out.endswith("Done!\n")


def test_dropout_demo_and_dropout_network():
    drop = nn.Dropout(p=0.5, inplace=False)
    X = torch.rand(4)
    before = X.tolist()
    Y = drop(X)
    assert X.tolist() == before
    assert all(y == 0 or abs(y - 2 * x) < 1e-6 for x, y in zip(before, Y.tolist()))

    class DropoutNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(28*28, 512),
                nn.ReLU(),
                nn.Dropout(p=0.5, inplace=False),
                nn.Linear(512, 512),
                nn.ReLU(),
                nn.Dropout(p=0.5, inplace=False),
                nn.Linear(512, 10)
            )

        def forward(self, x):
            x = self.flatten(x)
            logits = self.linear_relu_stack(x)
            return logits

    model = DropoutNetwork()
    x = torch.rand(2, 28, 28)
    model.eval()
    assert torch.equal(model(x), model(x))
    model.train()
    assert not torch.equal(model(x), model(x))


def test_cnn():
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

    net = NeuralNetwork()
    out = net(torch.randn(2, 3, 32, 32))
    F.cross_entropy(out, torch.tensor([1, 7])).backward()
    assert out.shape == (2, 10) and net.conv1.weight.grad.shape == (6, 3, 5, 5)


def test_rnn_all_weights_example(capsys):
    input_features = 10
    hidden_features = 20
    num_layers = 2
    sequence_length = 5

    rnn = nn.RNN(input_features, hidden_features, num_layers)
    input = torch.randn(sequence_length, input_features)
    h0 = torch.randn(num_layers, hidden_features)
    print(input.size(), h0.size())
    print([weight.data.size() for weights in rnn.all_weights for weight in weights])
    output, hn = rnn(input, h0)
    print(output.size(), hn.size())
    assert capsys.readouterr().out == (
        "ember.Size([5, 10]) ember.Size([2, 20])\n"
        "[ember.Size([20, 10]), ember.Size([20, 20]), ember.Size([20]), ember.Size([20]), "
        "ember.Size([20, 20]), ember.Size([20, 20]), ember.Size([20]), ember.Size([20])]\n"
        "ember.Size([5, 20]) ember.Size([2, 20])\n")


def test_lecture_rnn_gru_lstm_embedding_attention():
    # lecture 1: embeddings from pretrained vectors, an RNN with batch_first and a zero h0,
    # GRU as a drop-in replacement, LSTM with (h0, c0), attention over Q, K, V
    vectors = torch.randn(50, 8)
    emb = nn.Embedding.from_pretrained(vectors)
    x = emb(torch.randint(0, 50, (4, 7)))
    hidden_size = 12
    rnn = nn.RNN(8, hidden_size, batch_first=True)
    out, h = rnn(x, torch.zeros(1, x.size(0), hidden_size))
    assert out.shape == (4, 7, 12) and h.shape == (1, 4, 12)
    gru = nn.GRU(8, hidden_size, batch_first=True)
    out, h = gru(x, torch.zeros(1, x.size(0), hidden_size))
    lstm = nn.LSTM(8, hidden_size, batch_first=True)
    out, (h, _c) = lstm(x, (torch.zeros(1, 4, hidden_size), torch.zeros(1, 4, hidden_size)))
    final = nn.Linear(hidden_size, 2)(out[:, -1, :])
    assert final.shape == (4, 2)
    q_lin, k_lin, v_lin = nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 8)
    attention = nn.MultiheadAttention(8, 2, batch_first=True)
    attn_out, weights = attention(q_lin(x), k_lin(x), v_lin(x))
    assert attn_out.shape == (4, 7, 8) and weights.shape == (4, 7, 7)
    a, b = torch.randn(5), torch.randn(5)
    assert torch.norm(a - b).item() == pytest.approx(np.linalg.norm(a.numpy() - b.numpy()), rel=1e-5)
    cos = torch.cosine_similarity(a.unsqueeze(0), b.unsqueeze(0))
    ref = a.numpy() @ b.numpy() / np.linalg.norm(a.numpy()) / np.linalg.norm(b.numpy())
    assert cos.shape == (1,) and cos.item() == pytest.approx(ref, rel=1e-5)


def test_char_rnn_cell_from_notes():
    class RNN(nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super(RNN, self).__init__()  # noqa: UP008  (as in the notes)
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

        def initHidden(self):
            return torch.zeros(1, self.hidden_size)

    rnn = RNN(57, 128, 18)
    hidden = rnn.initHidden()
    criterion = nn.NLLLoss()
    loss = 0
    for letter in torch.eye(57)[:4]:
        output, hidden = rnn(letter.unsqueeze(0), hidden)
    loss = criterion(output, torch.tensor([3]))
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-0.005)
    assert output.shape == (1, 18)
