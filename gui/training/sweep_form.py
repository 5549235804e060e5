"""The sweep dialog's form: which training settings to vary (a tick and values or a range for each, checked as
they are typed by ``engine.training.sweep_space``), the search method, its budget, the trials at once and the
options every trial shares. ``arguments()`` gives them as ``main.py sweep`` options."""

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.graph.settings import SETTINGS_GROUPS
from engine.threads import usable_cpus
from engine.training.sweep_record import METHODS
from engine.training.sweep_space import SWEEPABLE_KINDS, SweepSpaceError, format_value, grid, grid_size, parse_space
from gui import theme
from gui.widgets import wheel_only_when_focused

from . import style

# Settings not offered: fixed for every trial below the list (epochs, train_limit), or changing what the score
# measures (val_split) or only how a run goes, not what it learns.
NOT_OFFERED = ("epochs", "train_limit", "val_split", "num_workers", "skip_bad_samples", "device", "health_every",
               "processes")
METHOD_LABELS = {"grid": "Grid (every combination)", "random": "Random search", "tpe": "TPE (Bayesian search)"}
RANGE_HINT = "V1, V2, … or LOW:HIGH[:log]"
FIRST_GROUPS = ("Optimiser", "Run", "Schedule")  # what is most often swept comes first
DEFAULT_TRIALS = 10  # of random and TPE search without a budget (main.py sweep's default)


def offered_specs():
    """{group: [ParamSpec]} of the training settings the form offers to vary: the groups most often swept first,
    each in the settings' order."""
    groups = sorted(SETTINGS_GROUPS, key=lambda g: FIRST_GROUPS.index(g) if g in FIRST_GROUPS else len(FIRST_GROUPS))
    offered = {group: [s for s in SETTINGS_GROUPS[group] if s.kind in SWEEPABLE_KINDS and s.name not in NOT_OFFERED]
               for group in groups}
    return {group: specs for group, specs in offered.items() if specs}


def _hint(spec):
    if spec.kind == "choice":
        return ", ".join(spec.choices)
    return "true, false" if spec.kind == "bool" else RANGE_HINT


class SettingRow:
    """One setting's tick, its value now and the field of values to try."""

    def __init__(self, spec, now, on_change):
        self.spec = spec
        self.check = QCheckBox(spec.name)
        self.now = QLabel(format_value(now))
        self.now.setStyleSheet(style.MUTED_STYLE)
        self.field = QLineEdit()
        self.field.setPlaceholderText(_hint(spec))
        tip = "; ".join(t for t in (spec.help, spec.describe_range(), spec.describe_applies()) if t)
        for widget in (self.check, self.field):
            widget.setToolTip(tip)
        self.check.toggled.connect(self._toggled)
        self.field.textEdited.connect(lambda text: self.check.setChecked(True) if text.strip() else None)
        self.field.textChanged.connect(on_change)
        self.check.toggled.connect(on_change)

    def _toggled(self, on):
        if on and not self.field.text().strip() and self.spec.kind in ("choice", "bool"):
            self.field.setText(_hint(self.spec))  # every choice: the person removes the ones not wanted

    @property
    def argument(self):
        """``name=text`` as ``--set`` takes it, or None when not ticked."""
        return f"{self.spec.name}={self.field.text().strip()}" if self.check.isChecked() else None

    def mark(self, bad):
        colour = theme.canvas_style(theme.current_theme()).error.name()
        self.field.setStyleSheet(f"QLineEdit {{ border: 1px solid {colour}; }}" if bad else "")


def _spin(low, high, value, special="", tip=""):
    box = wheel_only_when_focused(QSpinBox())
    box.setRange(low, high)
    box.setValue(value)
    box.setSpecialValueText(special)
    box.setToolTip(tip)
    return box


class SweepForm(QWidget):
    """``settings``: the document's training settings (each row shows its value now). ``changed`` is emitted on
    every edit; ``problem()`` says what stops a sweep from starting (None: it can start)."""

    changed = Signal()

    def __init__(self, settings, parent=None):
        super().__init__(parent)
        self.rows = {}
        rows = QWidget()
        grid_layout = QGridLayout(rows)
        grid_layout.setColumnStretch(2, 1)
        line = 0
        for group, specs in offered_specs().items():
            heading = QLabel(f"<b>{group}</b>")
            grid_layout.addWidget(heading, line, 0, 1, 3)
            line += 1
            for spec in specs:
                row = SettingRow(spec, settings.get(spec.name, spec.default), self.changed)
                self.rows[spec.name] = row
                grid_layout.addWidget(row.check, line, 0)
                grid_layout.addWidget(row.now, line, 1)
                grid_layout.addWidget(row.field, line, 2)
                line += 1
        self.scroll = QScrollArea()
        self.scroll.setWidget(rows)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.method = wheel_only_when_focused(QComboBox())
        for method in METHODS:
            self.method.addItem(METHOD_LABELS[method], method)
        self.method.currentIndexChanged.connect(self.changed)
        self.trials = _spin(0, 100000, 0, "auto", "Trials in all: auto runs every combination of a grid, and "
                                                  f"{DEFAULT_TRIALS} random or TPE trials unless a time limit is set")
        self.minutes = wheel_only_when_focused(QDoubleSpinBox())
        self.minutes.setRange(0, 100000)
        self.minutes.setDecimals(1)
        self.minutes.setSuffix(" min")
        self.minutes.setSpecialValueText("no limit")
        self.minutes.setToolTip("Start no trial after this many minutes (those running finish)")
        self.jobs = _spin(1, usable_cpus(), 1, "", "Trials trained at once, each in its own process with "
                                                   "a share of the CPU cores")
        self.epochs = _spin(1, 100000, int(settings.get("epochs", 1)), "", "Epochs of every trial")
        limit = int(settings.get("train_limit", 0))
        self.limit = _spin(0, 1 << 30, limit, f"as set ({limit or 'all'})",
                           "Train every trial on the first N training images only (fewer: quicker, rougher)")
        for box in (self.trials, self.jobs, self.epochs, self.limit):
            box.valueChanged.connect(self.changed)
        self.minutes.valueChanged.connect(self.changed)
        options = QFormLayout()
        options.addRow("Method", self.method)
        options.addRow("Trials", self.trials)
        options.addRow("Time limit", self.minutes)
        options.addRow("At once", self.jobs)
        options.addRow("Epochs", self.epochs)
        options.addRow("Images", self.limit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        vary = QLabel("<b>What to vary</b> — tick a setting, list values or give a range (random and TPE search)")
        vary.setWordWrap(True)
        layout.addWidget(vary)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(options)

    @property
    def method_name(self):
        return self.method.currentData()

    def set_method(self, method):
        self.method.setCurrentIndex(METHODS.index(method))

    def problem(self):
        """What keeps the form's sweep from starting, naming the setting and the value (None when it can start);
        the fields at fault are marked."""
        problems = []
        for row in self.rows.values():
            bad = None
            if row.check.isChecked() and not row.field.text().strip():
                bad = f"{row.spec.name}: list its values or give a range ({_hint(row.spec)})"
            elif row.check.isChecked():
                try:
                    parse_space([row.argument])
                except SweepSpaceError as e:
                    bad = str(e).removeprefix("--set ")
            row.mark(bad is not None)
            problems += [bad] if bad else []
        if problems:
            return "\n".join(problems)
        space = self.space()
        if not space:
            return "Tick a setting to vary and give the values to try."
        if self.method_name == "grid":
            try:
                grid(space)
            except SweepSpaceError as e:
                return f"Grid search: {e}."
        return None

    def space(self):
        """The ``Dimension`` of each ticked setting (call when ``problem()`` is None)."""
        arguments = self.set_arguments()
        return parse_space(arguments) if arguments else []

    def set_arguments(self):
        return [row.argument for row in self.rows.values() if row.argument]

    def summary(self):
        """The planned sweep in a few words (call when ``problem()`` is None)."""
        space = self.space()
        trials, minutes = self.trials.value(), self.minutes.value()
        if self.method_name == "grid":
            size = grid_size(space)
            count = f"{min(trials, size) if trials else size} of {size} combinations"
        else:
            count = f"{trials} trials" if trials else "trials until the time is up" if minutes else \
                f"{DEFAULT_TRIALS} trials"
        within = f" within {minutes:g} min" if minutes else ""
        images = f" on {self.limit.value()} images" if self.limit.value() else ""
        return (f"{count}{within}, {self.jobs.value()} at a time, {self.epochs.value()} epoch"
                f"{'s' if self.epochs.value() != 1 else ''} each{images}")

    def arguments(self):
        """The ``main.py sweep`` options of a new sweep (after the network)."""
        options = [x for argument in self.set_arguments() for x in ("--set", argument)]
        options += ["--method", self.method_name, "--epochs", str(self.epochs.value())]
        if self.limit.value():
            options += ["--limit", str(self.limit.value())]
        return options + self.budget_arguments()

    def budget_arguments(self):
        """The options a resumed sweep may take anew: the trials at once and, where given, the budget."""
        options = ["--jobs", str(self.jobs.value())]
        if self.trials.value():
            options += ["--trials", str(self.trials.value())]
        if self.minutes.value():
            options += ["--time", f"{self.minutes.value():g}"]
        return options
