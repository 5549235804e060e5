"""The inspector's view of one selected group: its name and repeat count as fields, what it computes (ports'
shapes, layers, parameters and MACs of every copy), and buttons to open or fold it, ungroup it and save it
as a block of the palette. Edits go through the editor's actions, as the layer form's do."""

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget

from engine.graph.groups import MAX_REPEAT

from . import formatting


class GroupForm(QWidget):
    refused = Signal(str)
    saveRequested = Signal(str)  # group id: save it as a palette block

    def __init__(self, document, controller, parent=None):
        super().__init__(parent)
        self.document, self.controller = document, controller
        self.group_id = None
        form = QFormLayout()
        form.setContentsMargins(0, 4, 0, 4)
        self.name_field = QLineEdit()
        self.name_field.editingFinished.connect(self._rename)
        self.repeat_box = QSpinBox()
        self.repeat_box.setRange(1, MAX_REPEAT)
        self.repeat_box.setToolTip("Stack this many copies of the block, each with its own weights; the block must "
                                   "give back the shape it takes")
        self.repeat_box.valueChanged.connect(self._repeat)
        form.addRow("name", self.name_field)
        form.addRow("repeat", self.repeat_box)
        self.fold_button = QPushButton()
        self.fold_button.clicked.connect(lambda: self.controller.toggle_fold(self.group_id))
        self.ungroup_button = QPushButton("Ungroup")
        self.ungroup_button.clicked.connect(lambda: self.controller.ungroup([self.group_id]))
        self.save_button = QPushButton("Save as Block…")
        self.save_button.setToolTip("Keep this group in the palette's My blocks, to add it to any network")
        self.save_button.clicked.connect(lambda: self.saveRequested.emit(self.group_id))
        buttons = QHBoxLayout()  # two rows, so that the dock keeps its width
        for button in (self.fold_button, self.ungroup_button):
            buttons.addWidget(button)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.RichText)
        self.info.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.save_button)
        layout.addWidget(self.info)

    def show_group(self, group_id, inference=None):
        self.group_id = group_id
        group = self.document.group(group_id)
        if not self.name_field.hasFocus():
            self.name_field.setText(group.name)
        self.repeat_box.blockSignals(True)
        self.repeat_box.setValue(group.repeat)
        self.repeat_box.blockSignals(False)
        self.fold_button.setText("Collapse" if not group.collapsed else "Open")
        info = (inference or self.document.infer()).groups.get(group_id)
        self.info.setText(group_html(group, info))

    def _rename(self):
        group = self.document.groups.get(self.group_id)
        name = self.name_field.text().strip()
        if group is None or name == group.name:
            return
        refusal = self.controller.set_group(self.group_id, {"name": name})
        if refusal:
            self.refused.emit(refusal)
            self.name_field.setText(group.name)

    def _repeat(self, value):
        group = self.document.groups.get(self.group_id)
        if group is None or value == group.repeat:
            return
        refusal = self.controller.set_group(self.group_id, {"repeat": value})
        if refusal:
            self.refused.emit(refusal)
            self.show_group(self.group_id)


def group_html(group, info):
    """The table of what a group computes, with its problem."""
    if info is None:
        return ""
    rows = [("layers", f"{len(group.members)}" + (f" × {group.repeat} copies" if group.repeat > 1 else ""))]
    if info.in_shapes:
        rows.append(("input", ", ".join(formatting.shape(s) for s in info.in_shapes)))
    if info.outputs:
        rows.append(("output", ", ".join(formatting.shape(s) for s in info.outputs)))
    rows += [("parameters", formatting.count(info.params)), ("MACs", formatting.count(info.macs))]
    if info.frozen_params:
        rows.append(("frozen", formatting.count(info.frozen_params)))
    html = "".join(f"<tr><td style='padding-right:12px'>{k}</td><td><b>{v}</b></td></tr>" for k, v in rows)
    html = f"<table>{html}</table>"
    if info.error:
        html += f"<p style='color:#d32f2f'><b>Error:</b> {info.error}</p>"
    if info.member_errors:
        html += f"<p style='color:#d32f2f'>{info.member_errors} layer(s) inside have errors.</p>"
    return html
