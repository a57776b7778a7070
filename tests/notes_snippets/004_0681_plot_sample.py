# Source: /work/shared/seeds/004_2fea2b37a5701506.txt, lines 681-704 (2.6.1 Datasets).
# Runs after: 004_0647_fashion_mnist.py
# Completed: the notes use matplotlib's plt without importing it; the import is added.
import matplotlib.pyplot as plt

labels_map = {
    0: "T-Shirt",
    1: "Trouser",
    2: "Pullover",
    3: "Dress",
    4: "Coat",
    5: "Sandal",
    6: "Shirt",
    7: "Sneaker",
    8: "Bag",
    9: "Ankle Boot",
}

random_index = torch.randint(len(training_data), size=(1,)).item()
img, label = training_data[random_index]

# Plot
plt.title(f"{labels_map[label]}")
plt.imshow(torch.squeeze(img), cmap="gray")
plt.axis("off")
