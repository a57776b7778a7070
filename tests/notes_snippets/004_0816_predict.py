# Source: /work/shared/seeds/004_2fea2b37a5701506.txt, lines 816-829 (2.6.2 Building a Neural Net).
# Runs after: 004_0796_model_repr.py
X = torch.rand(3, 28, 28, device=device)
logits = model(X)
pred_probab = nn.Softmax(dim=1)(logits)
y_pred = pred_probab.argmax(1)
print(f"Predicted class: {y_pred}")

 
# tensor([-0.0518,  0.0379, -0.0579,  0.0050,  0.0367,  0.0958,  0.0055,  0.1385,
#        0.0464, -0.0017]), device='cuda:0', grad_fn=<AddmmBackward0>
# tensor([0.0924, 0.1011, 0.0919, 0.0978, 0.1010, 0.1071, 0.0979, 0.1118, 0.1019,
#        0.0972]), device='cuda:0', grad_fn=<SoftmaxBackward0>
# Predicted class: tensor([7], device='cuda:0')
