"""MobileNetV3 large and small (inverted residuals with squeeze-and-excitation and hard-swish) as torchvision
builds them."""

from collections.abc import Sequence
from functools import partial

from ... import nn
from ...ops.shape import flatten
from ..ops.misc import Conv2dNormActivation, SqueezeExcitation
from .channels import make_divisible
from .mobile_init import init_mobile, small_normal
from .weights import WeightsEnum, build, imagenet, register_model

__all__ = ["MobileNetV3", "MobileNet_V3_Large_Weights", "MobileNet_V3_Small_Weights", "mobilenet_v3_large",
           "mobilenet_v3_small"]


class InvertedResidualConfig:
    """One block: channels (scaled by ``width_mult``), kernel, squeeze-and-excitation, "HS" (hard-swish) or
    "RE" (ReLU), stride, dilation."""

    def __init__(self, input_channels, kernel, expanded_channels, out_channels, use_se, activation, stride, dilation,
                 width_mult):
        self.input_channels = self.adjust_channels(input_channels, width_mult)
        self.kernel = kernel
        self.expanded_channels = self.adjust_channels(expanded_channels, width_mult)
        self.out_channels = self.adjust_channels(out_channels, width_mult)
        self.use_se = use_se
        self.use_hs = activation == "HS"
        self.stride = stride
        self.dilation = dilation

    @staticmethod
    def adjust_channels(channels, width_mult):
        return make_divisible(channels * width_mult, 8)


class InvertedResidual(nn.Module):
    def __init__(self, cnf, norm_layer, se_layer=None):
        super().__init__()
        se_layer = se_layer or partial(SqueezeExcitation, scale_activation=nn.Hardsigmoid)
        if not (1 <= cnf.stride <= 2):
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        activation_layer = nn.Hardswish if cnf.use_hs else nn.ReLU
        layers = []
        if cnf.expanded_channels != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, cnf.expanded_channels, kernel_size=1,
                                               norm_layer=norm_layer, activation_layer=activation_layer))
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.expanded_channels, kernel_size=cnf.kernel,
                                           stride=1 if cnf.dilation > 1 else cnf.stride, dilation=cnf.dilation,
                                           groups=cnf.expanded_channels, norm_layer=norm_layer,
                                           activation_layer=activation_layer))
        if cnf.use_se:
            layers.append(se_layer(cnf.expanded_channels, make_divisible(cnf.expanded_channels // 4, 8)))
        layers.append(Conv2dNormActivation(cnf.expanded_channels, cnf.out_channels, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.out_channels = cnf.out_channels
        self._is_cn = cnf.stride > 1

    def forward(self, input):
        result = self.block(input)
        return result + input if self.use_res_connect else result


class MobileNetV3(nn.Module):
    def __init__(self, inverted_residual_setting, last_channel, num_classes=1000, block=None, norm_layer=None,
                 dropout=0.2, **kwargs):
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        if not (isinstance(inverted_residual_setting, Sequence)
                and all(isinstance(s, InvertedResidualConfig) for s in inverted_residual_setting)):
            raise TypeError("The inverted_residual_setting should be List[InvertedResidualConfig]")
        block = block or InvertedResidual
        norm_layer = norm_layer or partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        first = inverted_residual_setting[0].input_channels
        layers = [Conv2dNormActivation(3, first, kernel_size=3, stride=2, norm_layer=norm_layer,
                                       activation_layer=nn.Hardswish)]
        layers += [block(cnf, norm_layer) for cnf in inverted_residual_setting]
        last_in = inverted_residual_setting[-1].out_channels
        last_out = 6 * last_in
        layers.append(Conv2dNormActivation(last_in, last_out, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Linear(last_out, last_channel), nn.Hardswish(inplace=True),
                                        nn.Dropout(p=dropout, inplace=True), nn.Linear(last_channel, num_classes))
        init_mobile(self, small_normal)

    def forward(self, x):
        return self.classifier(flatten(self.avgpool(self.features(x)), 1))


def _conf(arch, width_mult=1.0, reduced_tail=False, dilated=False, **kwargs):
    """The blocks of ``arch`` and its classifier's hidden width."""
    div = 2 if reduced_tail else 1
    dil = 2 if dilated else 1
    b = partial(InvertedResidualConfig, width_mult=width_mult)
    if arch == "mobilenet_v3_large":
        setting = [
            b(16, 3, 16, 16, False, "RE", 1, 1), b(16, 3, 64, 24, False, "RE", 2, 1),
            b(24, 3, 72, 24, False, "RE", 1, 1), b(24, 5, 72, 40, True, "RE", 2, 1),
            b(40, 5, 120, 40, True, "RE", 1, 1), b(40, 5, 120, 40, True, "RE", 1, 1),
            b(40, 3, 240, 80, False, "HS", 2, 1), b(80, 3, 200, 80, False, "HS", 1, 1),
            b(80, 3, 184, 80, False, "HS", 1, 1), b(80, 3, 184, 80, False, "HS", 1, 1),
            b(80, 3, 480, 112, True, "HS", 1, 1), b(112, 3, 672, 112, True, "HS", 1, 1),
            b(112, 5, 672, 160 // div, True, "HS", 2, dil),
            b(160 // div, 5, 960 // div, 160 // div, True, "HS", 1, dil),
            b(160 // div, 5, 960 // div, 160 // div, True, "HS", 1, dil),
        ]
        return setting, InvertedResidualConfig.adjust_channels(1280 // div, width_mult)
    setting = [
        b(16, 3, 16, 16, True, "RE", 2, 1), b(16, 3, 72, 24, False, "RE", 2, 1),
        b(24, 3, 88, 24, False, "RE", 1, 1), b(24, 5, 96, 40, True, "HS", 2, 1),
        b(40, 5, 240, 40, True, "HS", 1, 1), b(40, 5, 240, 40, True, "HS", 1, 1),
        b(40, 5, 120, 48, True, "HS", 1, 1), b(48, 5, 144, 48, True, "HS", 1, 1),
        b(48, 5, 288, 96 // div, True, "HS", 2, dil),
        b(96 // div, 5, 576 // div, 96 // div, True, "HS", 1, dil),
        b(96 // div, 5, 576 // div, 96 // div, True, "HS", 1, dil),
    ]
    return setting, InvertedResidualConfig.adjust_channels(1024 // div, width_mult)


class MobileNet_V3_Large_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet("https://download.pytorch.org/models/mobilenet_v3_large-8738ca79.pth", 5483032, (1, 1))
    IMAGENET1K_V2 = imagenet("https://download.pytorch.org/models/mobilenet_v3_large-5c1a4163.pth", 5483032, (1, 1),
                             resize=232)
    DEFAULT = IMAGENET1K_V2


class MobileNet_V3_Small_Weights(WeightsEnum):
    IMAGENET1K_V1 = imagenet("https://download.pytorch.org/models/mobilenet_v3_small-047dcff4.pth", 2542856, (1, 1))
    DEFAULT = IMAGENET1K_V1


@register_model(MobileNet_V3_Large_Weights)
def mobilenet_v3_large(*, weights=None, progress=True, **kwargs):
    return build(MobileNetV3, MobileNet_V3_Large_Weights.verify(weights), progress,
                 *_conf("mobilenet_v3_large", **kwargs), **kwargs)


@register_model(MobileNet_V3_Small_Weights)
def mobilenet_v3_small(*, weights=None, progress=True, **kwargs):
    return build(MobileNetV3, MobileNet_V3_Small_Weights.verify(weights), progress,
                 *_conf("mobilenet_v3_small", **kwargs), **kwargs)
