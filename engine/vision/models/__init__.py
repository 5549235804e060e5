"""``torchvision.models`` on the engine: the classifiers with torchvision's module names, state-dict keys,
initialisation and weight enums, so torchvision's weight files load and give its outputs."""

from .alexnet import AlexNet, AlexNet_Weights, alexnet
from .densenet import DenseNet, DenseNet121_Weights, densenet121
from .resnet import ResNet, ResNet18_Weights, ResNet34_Weights, ResNet50_Weights, resnet18, resnet34, resnet50
from .squeezenet import SqueezeNet, SqueezeNet1_0_Weights, SqueezeNet1_1_Weights, squeezenet1_0, squeezenet1_1
from .vgg import VGG, VGG11_BN_Weights, VGG11_Weights, VGG16_BN_Weights, VGG16_Weights, vgg11, vgg11_bn, vgg16, vgg16_bn
from .weights import Weights, WeightsEnum, get_model, get_model_builder, get_model_weights, get_weight, list_models

__all__ = [
    "VGG", "AlexNet", "AlexNet_Weights", "DenseNet", "DenseNet121_Weights", "ResNet", "ResNet18_Weights",
    "ResNet34_Weights", "ResNet50_Weights", "SqueezeNet", "SqueezeNet1_0_Weights", "SqueezeNet1_1_Weights",
    "VGG11_BN_Weights", "VGG11_Weights", "VGG16_BN_Weights", "VGG16_Weights", "Weights", "WeightsEnum", "alexnet",
    "densenet121", "get_model", "get_model_builder", "get_model_weights", "get_weight", "list_models", "resnet18",
    "resnet34", "resnet50", "squeezenet1_0", "squeezenet1_1", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn",
]
