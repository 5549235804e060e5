"""The initialisation torchvision gives its mobile classifiers (MobileNetV2, MobileNetV3, EfficientNet)."""

from ... import nn


def init_mobile(model, linear_weight_init):
    """Convolutions Kaiming-normal over their fan-out with zero bias, norms at (1, 0), and linear layers' weights
    by ``linear_weight_init(layer)`` with zero bias, in module order as torchvision draws them."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            linear_weight_init(m)
            nn.init.zeros_(m.bias)


def small_normal(linear):
    """N(0, 0.01) weights, the MobileNets' classifier initialisation."""
    nn.init.normal_(linear.weight, 0, 0.01)
