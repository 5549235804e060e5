"""The node editor: the canvas (scene, view and its items), the palette, inspector and summary docks,
the undo commands that edit the network document, and files (recent, autosave, clipboard)."""
