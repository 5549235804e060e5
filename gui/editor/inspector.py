"""The inspector dock: the selected node's name and parameters as widgets generated from the layer
catalogue, and what inference says about it. Edits go through the editor's actions; a refusal is shown
under the form and the widget goes back to the document's value."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QFormLayout, QFrame, QLabel, QLineEdit, QScrollArea, QVBoxLayout, QWidget

from gui.theme import category_colour

from . import formatting
from .group_inspector import GroupForm
from .param_widgets import editor_for


class Inspector(QScrollArea):
    def __init__(self, document, controller, parent=None):
        super().__init__(parent)
        self.document, self.controller = document, controller
        self.node_id = None
        self.editors = {}
        self._form_key = None  # (node id, layer type) the form was built for
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.NoFrame)
        self.setMinimumWidth(270)
        body = QWidget()
        self.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(8)
        self.heading = QLabel()
        self.heading.setTextFormat(Qt.RichText)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setStyleSheet("color: palette(placeholder-text);")
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 4, 0, 4)
        self.form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.form_host.hide()
        self.name_field = None
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d32f2f;")
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.RichText)
        self.info.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.group_form = GroupForm(document, controller)
        self.group_form.refused.connect(self._show_refusal)
        self.group_form.hide()
        for widget in (self.heading, self.description, self.form_host, self.group_form, self.message, self.info):
            layout.addWidget(widget)
        layout.addStretch(1)
        self.show_nodes([])

    # ----- what is shown -----
    def show_group(self, group_id):
        """Inspect one group: its name, repeat count and what it computes."""
        self.node_id = None
        self._build_form(None)
        self.message.clear()
        self.info.clear()
        self.group_form.show()
        self.description.setText("A group of layers, drawn as one box. Double-click it to open it; a repeat count "
                                 "stacks copies of it.")
        self._show_group(group_id)

    def _show_group(self, group_id, inference=None):
        if group_id not in self.document.groups:
            self.show_nodes([])
            return
        group = self.document.groups[group_id]
        colour = category_colour("Group").name()
        self.heading.setText(f"<span style='color:{colour}; font-size:13pt'>■</span> "
                             f"<b style='font-size:11pt'>{group.name}</b> &nbsp;<span>Group</span>")
        self.group_form.show_group(group_id, inference)

    def show_nodes(self, node_ids):
        """Inspect the single selected node; several or none show a hint."""
        self.node_id = node_ids[0] if len(node_ids) == 1 else None
        self.group_form.hide()
        self.message.clear()
        if self.node_id is None:
            self._build_form(None)
            count = len(node_ids)
            self.heading.setText(f"<b>{count} nodes selected</b>" if count else "<b>No node selected</b>")
            self.description.setText("Select one node to edit its parameters." if count else
                                     "Select a node to edit its parameters, or add one from the palette "
                                     "(drag it onto the canvas, or press Tab on the canvas).")
            self.info.clear()
        self.refresh()

    def _build_form(self, node):
        key = (node.id, node.type) if node is not None else None
        if key == self._form_key:
            return
        self._form_key = key
        while self.form.rowCount():
            self.form.removeRow(0)  # deletes the row's widgets
        self.editors, self.name_field, self.frozen_box = {}, None, None
        if node is None:
            self.form_host.hide()
            return
        lt = node.layer_type
        self.name_field = QLineEdit()
        self.name_field.editingFinished.connect(self._rename)
        self.form.addRow("name", self.name_field)
        for name, spec in lt.params.items():
            editor = editor_for(spec)
            editor.edited.connect(lambda value, name=name: self._edit(name, value))
            editor.invalid.connect(self._show_refusal)
            self.form.addRow(name, editor)
            self.editors[name] = editor
        info = self.document.infer().nodes.get(node.id)
        if lt.module is not None and info is not None and info.params:
            self.frozen_box = QCheckBox("keep its parameters as they are")
            self.frozen_box.setToolTip("Frozen: training leaves this layer's parameters unchanged (transfer "
                                       "learning); Edit ▸ Freeze toggles the selected layers")
            self.frozen_box.toggled.connect(self._freeze)
            self.form.addRow("frozen", self.frozen_box)
        self.form_host.show()

    def refresh(self, inference=None):
        """Show the document's current values and inference (after any edit)."""
        if not self.group_form.isHidden():  # (isHidden: the dock itself may be out of sight)
            self._show_group(self.group_form.group_id, inference)
            return
        if self.node_id is None:
            return
        if self.node_id not in self.document.nodes:
            self.show_nodes([])
            return
        node = self.document.nodes[self.node_id]
        self._build_form(node)
        lt = node.layer_type
        colour = category_colour(lt.category).name()
        self.heading.setText(f"<span style='color:{colour}; font-size:13pt'>■</span> "
                             f"<b style='font-size:11pt'>{node.name}</b> &nbsp;<span>{lt.name} · {lt.category}</span>")
        self.description.setText(lt.description)
        if not self.name_field.hasFocus():
            self.name_field.setText(node.name)
        for name, editor in self.editors.items():
            editor.set_value(node.params[name])
        if self.frozen_box is not None:
            self.frozen_box.blockSignals(True)
            self.frozen_box.setChecked(node.frozen)
            self.frozen_box.blockSignals(False)
        self.info.setText(self._info_html(node, (inference or self.document.infer()).nodes.get(node.id)))

    def _info_html(self, node, info):
        if info is None:
            return ""
        rows = []
        if info.in_shapes:
            rows.append(("input", ", ".join(formatting.shape(s) for s in info.in_shapes)))
        if info.shape is not None:
            rows += [("outputs" if len(info.outputs) > 1 else "output", formatting.outputs(info)),
                     ("parameters", formatting.count(info.params)), ("MACs", formatting.count(info.macs))]
        html = "".join(f"<tr><td style='padding-right:12px'>{k}</td><td><b>{v}</b></td></tr>" for k, v in rows)
        html = f"<table>{html}</table>"
        if info.error:
            html += f"<p style='color:#d32f2f'><b>Error:</b> {info.error}</p>"
        elif info.blocked:
            html += "<p>No shape yet: an input above has a problem or is missing.</p>"
        if info.warning:
            html += f"<p style='color:#ef8f00'><b>Warning:</b> {info.warning}</p>"
        return html

    # ----- edits -----
    def _edit(self, name, value):
        node = self.document.nodes.get(self.node_id)
        if node is None or node.params.get(name) == value:
            return
        refusal = self.controller.set_params(self.node_id, {name: value})
        if refusal:
            self._show_refusal(refusal)
            self.refresh()
        else:
            self.message.clear()

    def _freeze(self, frozen):
        node = self.document.nodes.get(self.node_id)
        if node is not None and node.frozen != frozen:
            refusal = self.controller.set_frozen([self.node_id], frozen)
            if refusal:
                self._show_refusal(refusal)
                self.refresh()

    def _rename(self):
        node = self.document.nodes.get(self.node_id)
        name = self.name_field.text().strip()
        if node is None or name == node.name:
            return
        refusal = self.controller.rename(self.node_id, name)
        if refusal:
            self._show_refusal(refusal)
            self.name_field.setText(node.name)
        else:
            self.message.clear()

    def _show_refusal(self, message):
        self.message.setText(message)

    def set_editing_enabled(self, enabled):
        self.form_host.setEnabled(enabled)
        self.group_form.setEnabled(enabled)
