# Source: /work/shared/seeds/003_1d586132f02853ff.txt, lines 1023-1031 ("nn.NLLLoss").
# Runs after: 003_1002_fc2layer.py
# Completed: the notes show one training step on its own; the lines before it build the
# FC2Layer model above, an SGD optimizer and a batch of 28x28 images with class labels.
import ember.nn.functional as F

model = FC2Layer(28 * 28, 50, 10)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
data, target = torch.rand(16, 1, 28, 28), torch.randint(0, 10, (16,))

optimizer.zero_grad()
output = model(data)
loss = F.nll_loss(output, target)
loss.backward()
optimizer.step()
