# Source: /work/shared/seeds/004_2fea2b37a5701506.txt, lines 732-743 (2.6.1 Datasets).
# Runs after: 004_0647_fashion_mnist.py
# Offline: reads the fake FashionMNIST files the test writes (download=True fetches nothing).
from ember.vision.transforms import ToTensor, Lambda

ds = datasets.FashionMNIST(
    root="data",
    train=True,
    download=True,
    transform=ToTensor(),
    target_transform=Lambda(lambda y: torch.zeros(10, dtype=torch.float).scatter_(0,
        torch.tensor(y), value=1))
)
