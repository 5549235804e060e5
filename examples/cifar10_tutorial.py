"""The PyTorch CIFAR-10 tutorial ("Training a classifier"), run on LayerLab's engine.

    python examples/cifar10_tutorial.py --data ../shared/data/cifar10        # or --download

It is the tutorial's code with ``import engine as torch``: load and normalise CIFAR-10, look at a grid of
training images (saved to a PNG), train the small convolutional ``Net`` with SGD (lr 0.001, momentum 0.9,
batch 4, 2 epochs) printing the running loss every 2000 mini-batches, then report test accuracy and the
accuracy of each class, and save the weights.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import engine as torch
import engine.nn as nn
import engine.nn.functional as F
import engine.optim as optim
from engine import vision as torchvision
from engine.vision import transforms

classes = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


class Net(nn.Module):
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
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="CIFAR-10 root (holding cifar-10-batches-py); default: "
                        "$LAYERLAB_DATA or ~/.cache/layerlab/data")
    parser.add_argument("--download", action="store_true", help="download CIFAR-10 if it is missing")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images only (quick runs)")
    parser.add_argument("--out", default="cifar10_tutorial_out", help="folder for the image grid and the weights")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    trainset = torchvision.datasets.CIFAR10(root=args.data, train=True, download=args.download, transform=transform)
    if args.limit:
        trainset = torch.utils.data.Subset(trainset, range(args.limit))
    trainloader = torch.utils.data.DataLoader(trainset, batch_size=args.batch_size, shuffle=True, num_workers=2)
    testset = torchvision.datasets.CIFAR10(root=args.data, train=False, download=args.download, transform=transform)
    testloader = torch.utils.data.DataLoader(testset, batch_size=args.batch_size, shuffle=False, num_workers=2)

    images, labels = next(iter(trainloader))
    grid_path = os.path.join(args.out, "training_images.png")
    torchvision.utils.save_image(torchvision.utils.make_grid(images) / 2 + 0.5, grid_path)
    print(" ".join(f"{classes[labels[j]]:5s}" for j in range(len(labels))), f"(grid saved to {grid_path})")

    net = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=args.lr, momentum=0.9)

    start = time.perf_counter()
    for epoch in range(args.epochs):
        running_loss = 0.0
        for i, data in enumerate(trainloader, 0):
            inputs, labels = data
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            if i % 2000 == 1999:
                print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 2000:.3f}")
                running_loss = 0.0
    train_seconds = time.perf_counter() - start
    print(f"Finished Training in {train_seconds:.1f} s")

    weights_path = os.path.join(args.out, "cifar_net.safetensors")
    torch.save_safetensors(net.state_dict(), weights_path)

    correct = total = 0
    correct_pred = {name: 0 for name in classes}
    total_pred = {name: 0 for name in classes}
    with torch.no_grad():
        for images, labels in testloader:
            outputs = net(images)
            _, predicted = torch.max(outputs, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
            for label, prediction in zip(labels.tolist(), predicted.tolist()):
                total_pred[classes[label]] += 1
                correct_pred[classes[label]] += label == prediction
    print(f"Accuracy of the network on the 10000 test images: {100 * correct / total:.1f} %")
    for name in classes:
        print(f"Accuracy of {name:5s} : {100 * correct_pred[name] / max(total_pred[name], 1):.1f} %")
    print(f"weights saved to {weights_path}")
    return correct / total, train_seconds


if __name__ == "__main__":
    main()
