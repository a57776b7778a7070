# Source: /work/shared/seeds/004_2fea2b37a5701506.txt, lines 921-928 (2.6.4 Optimizing Model Parameters).
# Runs after: 004_0713_dataloader.py 004_0869_loss_optimizer.py 004_0879_train_loop.py 004_0902_test_loop.py
# Shortened: 2 epochs instead of 5 (on the small fake FashionMNIST the test writes).
epochs = 2
for t in range(epochs):
    print(f"Epoch {t+1}\n-----")
    train(train_dataloader, model, loss_fn, optimizer)
    test(test_dataloader, model, loss_fn)
print("Done!")
