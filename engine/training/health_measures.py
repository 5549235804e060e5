"""The measures of a layer's health, each described once: its column in ``health.csv``, its label, the band it
should stay in, and what it means when it leaves the band (and what people usually do about it).

A level is 0 (fine), 1 (amber: worth a look) or 2 (red: something is wrong). A measure that does not apply to
a layer (a ReLU has no weights) is NaN and has level 0.
"""

import math
from dataclasses import dataclass

FINE, WARN, BAD = 0, 1, 2
LEVEL_NAMES = ("fine", "warning", "problem")


@dataclass(frozen=True)
class Measure:
    key: str  # the column of health.csv
    label: str
    short: str  # a label for narrow places (a node's health strip, a table header)
    meaning: str  # what the measure is, one sentence
    high: tuple = ()  # (amber above, red above): limits for large values, or () for none
    low: tuple = ()  # (amber below, red below): limits for small values (positive measures), or () for none
    high_advice: str = ""
    low_advice: str = ""
    log_scale: bool = False  # plotted on a log axis
    share: bool = False  # a fraction between 0 and 1, shown as a percentage

    def level(self, value):
        """0, 1 or 2 for ``value`` (NaN: 0, not measured; ±inf: 2)."""
        if math.isnan(value):
            return FINE
        if math.isinf(value):
            return BAD
        level = FINE
        if self.high:
            level = max(level, BAD if value > self.high[1] else WARN if value > self.high[0] else FINE)
        if self.low:
            level = max(level, BAD if value < self.low[1] else WARN if value < self.low[0] else FINE)
        return level

    def advice(self, value):
        """What a value outside the band means and what people usually do, or '' inside it."""
        if self.level(value) == FINE:
            return ""
        if math.isinf(value):
            return "The value is infinite: the layer has diverged. Lower the learning rate or clip the gradients."
        if self.high and value > self.high[0]:
            return self.high_advice
        return self.low_advice


MEASURES = (
    Measure("update_ratio", "update ratio", "Δw/w",
            "‖Δw‖/‖w‖: how much one optimizer step changes the layer's weights, "
            "relative to their size. About 1e-3 is the usual healthy value.",
            high=(1e-2, 1e-1), low=(1e-5, 1e-7),
            high_advice="Each step rewrites a large part of the weights, so training is likely to be unstable or "
                        "to diverge. Lower the learning rate (or use a warm-up), or clip the gradients.",
            low_advice="The weights barely move: the layer learns very slowly. Raise the learning rate, or check "
                       "that gradients reach this layer (normalisation, residual connections, initialisation).",
            log_scale=True),
    Measure("grad_norm", "gradient norm", "‖grad‖",
            "‖∂loss/∂w‖: the L2 norm of the layer's weight gradients at this step.",
            high=(1e2, 1e4), low=(1e-7, 1e-10),
            high_advice="The gradients are exploding. Lower the learning rate, clip the gradients, or add "
                        "normalisation (BatchNorm) before this layer.",
            low_advice="Almost no gradient reaches this layer (vanishing gradients). Use ReLU-family activations, "
                       "He/Kaiming initialisation, BatchNorm or residual connections.",
            log_scale=True),
    Measure("weight_norm", "weight norm", "‖w‖",
            "‖w‖: the L2 norm of the layer's weights after the step.",
            high=(1e3, 1e5), high_advice="The weights have grown very large. Add weight decay or lower the "
                                         "learning rate.", log_scale=True),
    Measure("act_mean", "activation mean", "mean",
            "The mean of the layer's output over the sampled batch.",
            high=(1e2, 1e3), high_advice="The outputs drift to large values. Normalise the input or add BatchNorm; "
                                         "check the initialisation."),
    Measure("act_std", "activation std", "std",
            "The standard deviation of the layer's output over the sampled batch.",
            high=(1e2, 1e3),
            high_advice="The activations are exploding. Lower the initialisation scale or the learning rate, or add "
                        "normalisation after this layer."),
    Measure("dead_fraction", "dead units", "dead",
            "The share of units (channels or features) whose ReLU output was zero "
            "for every sample of the recent sampled batches: such units pass no gradient and stop learning.",
            high=(0.25, 0.5), share=True,
            high_advice="Many units are dead. Lower the learning rate, use LeakyReLU or GELU, check for a large "
                        "negative bias, or add BatchNorm before the ReLU."),
    Measure("saturated_fraction", "saturated", "saturated",
            "The share of sigmoid or tanh outputs within 0.01 of their limits, "
            "where the gradient almost vanishes.", high=(0.2, 0.5), share=True,
            high_advice="The activations are saturated and pass little gradient. Normalise the input, lower the "
                        "initialisation scale, or use ReLU-family activations."),
    Measure("nonfinite", "non-finite", "NaN/inf",
            "How many values of the layer's output and gradients are NaN or infinite.",
            high=(0, 0), high_advice="The layer produced NaN or infinite values. Lower the learning rate, clip the "
                                     "gradients, or look for a log or division of zero."),
)

KEYS = tuple(m.key for m in MEASURES)
BY_KEY = {m.key: m for m in MEASURES}
