# Source: /work/shared/seeds/004_2fea2b37a5701506.txt, lines 833-836 (2.6.2 Building a Neural Net).
# Runs after: 004_0796_model_repr.py
for name, param in model.named_parameters():
    print(f"Layer: {name} | Size: {param.size()} | Values : {param[:2]} \n")
