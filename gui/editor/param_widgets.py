"""Inspector widgets generated from a ``ParamSpec``: spin boxes with the spec's range, check boxes,
combo boxes, pairs and lists of integers. An optional parameter (default None) shows "auto" as the
spin box's lowest value.

Each editor emits ``edited(value)`` with a value for the document to check, or ``invalid(message)``
when its text does not even parse; ``set_value`` shows a value without emitting anything.
"""

import math
import re

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QLineEdit, QSpinBox, QWidget

from gui.widgets import wheel_only_when_focused

INT_LIMIT = 2**31 - 1
AUTO = "auto"


class ParamEditor(QWidget):
    edited = Signal(object)
    invalid = Signal(str)

    def __init__(self, spec, parent=None):
        super().__init__(parent)
        self.spec = spec
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        tip = "; ".join(text for text in (spec.help, spec.describe_applies()) if text)
        if spec.describe_range():
            tip = f"{tip} ({spec.describe_range()})" if tip else spec.describe_range()
        self.setToolTip(tip)

    def set_value(self, value):
        blockers = [QSignalBlocker(w) for w in self.findChildren(QWidget)]
        self._show(value)
        del blockers

    def _show(self, value):
        raise NotImplementedError

    def value(self):
        raise NotImplementedError


def _int_spin(spec):
    """A spin box over the spec's range; for optional specs the value below the range reads "auto"."""
    spin = wheel_only_when_focused(QSpinBox())
    low = int(spec.minimum) if spec.minimum is not None else -INT_LIMIT + 1
    high = int(min(spec.maximum, INT_LIMIT)) if spec.maximum is not None else INT_LIMIT
    if spec.optional:
        low -= 1
        spin.setSpecialValueText(AUTO)
    spin.setRange(low, high)
    spin.setKeyboardTracking(False)
    spin.setAccelerated(True)
    return spin


def _spin_value(spin, spec):
    return None if spec.optional and spin.value() == spin.minimum() else spin.value()


def _show_spin(spin, value):
    spin.setValue(spin.minimum() if value is None else value)


class IntEditor(ParamEditor):
    def __init__(self, spec, parent=None):
        super().__init__(spec, parent)
        self.spin = _int_spin(spec)
        self._layout.addWidget(self.spin)
        self.spin.valueChanged.connect(lambda _: self.edited.emit(self.value()))

    def _show(self, value):
        _show_spin(self.spin, value)

    def value(self):
        return _spin_value(self.spin, self.spec)


class _FloatSpin(QDoubleSpinBox):
    """Shows ``1e-05`` as such, not as ``0.00``; steps multiply when the range spans many decades."""

    def __init__(self, spec):
        super().__init__()
        self.setDecimals(15)
        low = spec.minimum if spec.minimum is not None else -1e300
        high = spec.maximum if spec.maximum is not None else 1e300
        self.setRange(low, high)
        self._log = low > 0 and high / low >= 1e3
        self.setSingleStep(0.01 if high - low <= 1 else 0.1)
        self.setKeyboardTracking(False)
        wheel_only_when_focused(self)

    def textFromValue(self, value):
        return f"{value:g}"

    def valueFromText(self, text):
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text, pos):
        try:
            value = float(text)
        except ValueError:
            return QValidator.Intermediate, text, pos
        ok = math.isfinite(value) and self.minimum() <= value <= self.maximum()
        return (QValidator.Acceptable if ok else QValidator.Intermediate), text, pos

    def stepBy(self, steps):
        if self._log and self.value() > 0:
            self.setValue(self.value() * 2.0**steps)
        else:
            super().stepBy(steps)


class FloatEditor(ParamEditor):
    def __init__(self, spec, parent=None):
        super().__init__(spec, parent)
        self.spin = _FloatSpin(spec)
        self._layout.addWidget(self.spin)
        self.spin.valueChanged.connect(lambda v: self.edited.emit(float(v)))

    def _show(self, value):
        self.spin.setValue(value)

    def value(self):
        return self.spin.value()


class BoolEditor(ParamEditor):
    def __init__(self, spec, parent=None):
        super().__init__(spec, parent)
        self.check = QCheckBox()
        self._layout.addWidget(self.check)
        self.check.toggled.connect(self.edited.emit)

    def _show(self, value):
        self.check.setChecked(bool(value))

    def value(self):
        return self.check.isChecked()


class ChoiceEditor(ParamEditor):
    def __init__(self, spec, parent=None):
        super().__init__(spec, parent)
        self.combo = wheel_only_when_focused(QComboBox())
        self.combo.addItems([str(c) for c in spec.choices])
        self._layout.addWidget(self.combo)
        self.combo.activated.connect(lambda index: self.edited.emit(spec.choices[index]))

    def _show(self, value):
        self.combo.setCurrentIndex(self.spec.choices.index(value))

    def value(self):
        return self.spec.choices[self.combo.currentIndex()]


class PairEditor(ParamEditor):
    """Height × width; either at "auto" makes the whole pair auto."""

    def __init__(self, spec, parent=None):
        super().__init__(spec, parent)
        self.spins = (_int_spin(spec), _int_spin(spec))
        self._layout.addWidget(self.spins[0], 1)
        self._layout.addWidget(QLabel("×"))
        self._layout.addWidget(self.spins[1], 1)
        for spin in self.spins:
            spin.valueChanged.connect(lambda _: self.edited.emit(self.value()))

    def _show(self, value):
        for k, spin in enumerate(self.spins):
            _show_spin(spin, None if value is None else value[k])

    def value(self):
        values = [_spin_value(spin, self.spec) for spin in self.spins]
        return None if None in values else tuple(values)


class PaddingEditor(PairEditor):
    """Explicit padding (a pair) or ``'same'``/``'valid'``."""

    MODES = ("pixels", "same", "valid")

    def __init__(self, spec, parent=None):
        super().__init__(spec, parent)
        self.mode = wheel_only_when_focused(QComboBox())
        self.mode.addItems(self.MODES)
        self._layout.insertWidget(0, self.mode)
        self.mode.activated.connect(lambda _: self.edited.emit(self.value()))

    def _show(self, value):
        explicit = not isinstance(value, str)
        self.mode.setCurrentIndex(0 if explicit else self.MODES.index(value))
        super()._show(value if explicit else (0, 0))
        for spin in self.spins:
            spin.setEnabled(explicit)

    def value(self):
        mode = self.MODES[self.mode.currentIndex()]
        return super().value() if mode == "pixels" else mode


class IntsEditor(ParamEditor):
    """A shape (``3×32×32``) or a list of integers (``30, 60``) typed as text."""

    def __init__(self, spec, parent=None):
        super().__init__(spec, parent)
        self.field = QLineEdit()
        self.field.setPlaceholderText("e.g. 3×32×32" if spec.kind == "shape" else "e.g. 30, 60")
        self._layout.addWidget(self.field)
        self._shown = None
        self.field.editingFinished.connect(self._commit)

    def _show(self, value):
        self._shown = value
        self.field.setText(self.spec.format(value) if value else "")

    def value(self):
        parts = [p for p in re.split(r"[×x*,\s]+", self.field.text().strip()) if p]
        try:
            return tuple(int(p) for p in parts)
        except ValueError:
            raise ValueError(f"'{self.spec.name}' must be whole numbers separated by "
                             f"{'×' if self.spec.kind == 'shape' else 'commas'}, got {self.field.text()!r}") from None

    def _commit(self):
        try:
            value = self.value()
        except ValueError as e:
            self.invalid.emit(str(e))
            return
        if value != self._shown:
            self.edited.emit(value)


class TextEditor(ParamEditor):
    def __init__(self, spec, parent=None):
        super().__init__(spec, parent)
        self.field = QLineEdit()
        self._layout.addWidget(self.field)
        self.field.editingFinished.connect(lambda: self.edited.emit(self.field.text()))

    def _show(self, value):
        self.field.setText(value)

    def value(self):
        return self.field.text()


_EDITORS = {"int": IntEditor, "float": FloatEditor, "bool": BoolEditor, "choice": ChoiceEditor, "pair": PairEditor,
            "padding": PaddingEditor, "shape": IntsEditor, "ints": IntsEditor, "text": TextEditor}


def editor_for(spec, parent=None):
    """The editor widget of ``spec``'s kind."""
    return _EDITORS[spec.kind](spec, parent)
