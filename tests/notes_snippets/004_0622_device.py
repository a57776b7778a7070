# Source: /work/shared/seeds/004_2fea2b37a5701506.txt, lines 622-633 (2.6 Quick Start to PyTorch).
import ember as torch

device = (
    "cuda"
    if torch.cuda.is_available()
    else "mps"
    if torch.backends.mps.is_available()
    else "cpu"
)
print(f"Using {device} device")
