"""The palette's user blocks in the window: a group saved as a block (its layers, connections and groups,
under a name the user gives), a block added to the network (dropped on the canvas, or double-clicked in the
palette, one undo step), a block deleted from the palette after the user confirms."""

from engine.graph import NetworkFileError, copy_fragment
from engine.utils.files import FileError


def save_group_as_block(window, group_id):
    """Ask for a name (the group's by default) and keep the group in the palette's My blocks; returns the
    name, or None when cancelled or refused (the reason shown)."""
    group = window.document.group(group_id)
    answer = window.ask_block_name(group.name)
    if answer is None:
        return None
    name, description = answer
    try:
        window.layer_palette.store.save(name, copy_fragment(window.document, group.members), description)
    except (ValueError, FileError) as e:
        window.show_error("Cannot save the block", str(e))
        return None
    window.layer_palette.reload_blocks()
    window.statusBar().showMessage(f"Saved the block “{name}” in the palette's My blocks", 6000)
    return name


def add_block(window, name, scene_pos):
    """Add the block ``name`` with its top-left corner at ``scene_pos``; returns the refusal, or None."""
    try:
        fragment = window.layer_palette.store.fragment(name)
    except NetworkFileError as e:  # the file went or was spoilt since the palette listed it
        window.layer_palette.reload_blocks()
        window.show_error("Cannot add the block", str(e))
        return str(e)
    return window.controller.paste_fragment(fragment, scene_pos, f"Add block {name}")


def remove_block(window, name):
    """Delete a palette block once the user confirms; returns whether it went."""
    if not window.ask_remove_block(name):
        return False
    try:
        return window.layer_palette.remove_block(name)
    except FileError as e:
        window.show_error("Cannot delete the block", str(e))
        return False
