"""Graphics items drawn highlighted while the mouse is over them."""


class HoverHighlight:
    """Mixin (before the Qt item class) keeping ``_hover`` and repainting when it changes; the item enables
    hover events and reads ``_hover`` in ``paint``."""

    _hover = False

    def hoverEnterEvent(self, event):
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event):
        self._hover = False
        self.update()
