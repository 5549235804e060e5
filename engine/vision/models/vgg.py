"""VGG-11/16, with and without batch norm, as torchvision builds them."""

from ... import nn
from ...ops.shape import flatten
from .weights import WeightsEnum, build, imagenet, register_model

__all__ = ["VGG", "VGG11_BN_Weights", "VGG11_Weights", "VGG16_BN_Weights", "VGG16_Weights", "vgg11", "vgg11_bn",
           "vgg16", "vgg16_bn"]

# Output channels of each 3×3 convolution; "M" is a 2×2 max pool.
CFGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
}


class VGG(nn.Module):
    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return self.classifier(flatten(self.avgpool(self.features(x)), 1))


def make_layers(cfg, batch_norm=False):
    layers = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        in_channels = v
    return nn.Sequential(*layers)


def _vgg(cfg, batch_norm, weights, progress, **kwargs):
    if weights is not None:
        kwargs["init_weights"] = False
    return build(VGG, weights, progress, make_layers(CFGS[cfg], batch_norm=batch_norm), **kwargs)


def _weights(url, num_params):
    return imagenet(url, num_params, (32, 32))


class VGG11_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("https://download.pytorch.org/models/vgg11-8a719046.pth", 132863336)
    DEFAULT = IMAGENET1K_V1


class VGG11_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("https://download.pytorch.org/models/vgg11_bn-6002323d.pth", 132868840)
    DEFAULT = IMAGENET1K_V1


class VGG16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("https://download.pytorch.org/models/vgg16-397923af.pth", 138357544)
    # Only ``features`` holds trained values (ported from SSD), normalised the original way: 0-255 less the mean.
    IMAGENET1K_FEATURES = imagenet("https://download.pytorch.org/models/vgg16_features-amdegroot-88682ab5.pth",
                                   138357544, (32, 32), categories=None, mean=(0.48235, 0.45882, 0.40784),
                                   std=(1.0 / 255.0, 1.0 / 255.0, 1.0 / 255.0))
    DEFAULT = IMAGENET1K_V1


class VGG16_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("https://download.pytorch.org/models/vgg16_bn-6c64b313.pth", 138365992)
    DEFAULT = IMAGENET1K_V1


@register_model(VGG11_Weights)
def vgg11(*, weights=None, progress=True, **kwargs):
    return _vgg("A", False, VGG11_Weights.verify(weights), progress, **kwargs)


@register_model(VGG11_BN_Weights)
def vgg11_bn(*, weights=None, progress=True, **kwargs):
    return _vgg("A", True, VGG11_BN_Weights.verify(weights), progress, **kwargs)


@register_model(VGG16_Weights)
def vgg16(*, weights=None, progress=True, **kwargs):
    return _vgg("D", False, VGG16_Weights.verify(weights), progress, **kwargs)


@register_model(VGG16_BN_Weights)
def vgg16_bn(*, weights=None, progress=True, **kwargs):
    return _vgg("D", True, VGG16_BN_Weights.verify(weights), progress, **kwargs)
