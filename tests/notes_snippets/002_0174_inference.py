# Source: /work/shared/seeds/002_d67fcc9f8dff7582.txt, line 174 (slide "Pytorch Model").
# Runs after: 002_0027_net.py
# Completed: the slide's one line needs a model and an input; they are built first.
model = Net()
input = torch.randn(1, 10)
label = model(input)
