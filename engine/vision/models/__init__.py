"""``torchvision.models`` on the engine: the classifiers with torchvision's module names, state-dict keys,
initialisation and weight enums, so torchvision's weight files load and give its outputs."""

from .alexnet import AlexNet, AlexNet_Weights, alexnet
from .convnext import ConvNeXt, ConvNeXt_Tiny_Weights, convnext_tiny
from .densenet import DenseNet, DenseNet121_Weights, densenet121
from .efficientnet import EfficientNet, EfficientNet_B0_Weights, efficientnet_b0
from .mobilenetv2 import MobileNet_V2_Weights, MobileNetV2, mobilenet_v2
from .mobilenetv3 import (
    MobileNet_V3_Large_Weights,
    MobileNet_V3_Small_Weights,
    MobileNetV3,
    mobilenet_v3_large,
    mobilenet_v3_small,
)
from .resnet import ResNet, ResNet18_Weights, ResNet34_Weights, ResNet50_Weights, resnet18, resnet34, resnet50
from .squeezenet import SqueezeNet, SqueezeNet1_0_Weights, SqueezeNet1_1_Weights, squeezenet1_0, squeezenet1_1
from .vgg import VGG, VGG11_BN_Weights, VGG11_Weights, VGG16_BN_Weights, VGG16_Weights, vgg11, vgg11_bn, vgg16, vgg16_bn
from .vision_transformer import VisionTransformer, ViT_B_16_Weights, vit_b_16
from .weights import Weights, WeightsEnum, get_model, get_model_builder, get_model_weights, get_weight, list_models

__all__ = [
    "VGG",
    "AlexNet",
    "AlexNet_Weights",
    "ConvNeXt",
    "ConvNeXt_Tiny_Weights",
    "DenseNet",
    "DenseNet121_Weights",
    "EfficientNet",
    "EfficientNet_B0_Weights",
    "MobileNetV2",
    "MobileNetV3",
    "MobileNet_V2_Weights",
    "MobileNet_V3_Large_Weights",
    "MobileNet_V3_Small_Weights",
    "ResNet",
    "ResNet18_Weights",
    "ResNet34_Weights",
    "ResNet50_Weights",
    "SqueezeNet",
    "SqueezeNet1_0_Weights",
    "SqueezeNet1_1_Weights",
    "VGG11_BN_Weights",
    "VGG11_Weights",
    "VGG16_BN_Weights",
    "VGG16_Weights",
    "ViT_B_16_Weights",
    "VisionTransformer",
    "Weights",
    "WeightsEnum",
    "alexnet",
    "convnext_tiny",
    "densenet121",
    "efficientnet_b0",
    "get_model",
    "get_model_builder",
    "get_model_weights",
    "get_weight",
    "list_models",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "resnet18",
    "resnet34",
    "resnet50",
    "squeezenet1_0",
    "squeezenet1_1",
    "vgg11",
    "vgg11_bn",
    "vgg16",
    "vgg16_bn",
    "vit_b_16",
]
