"""Sizes a network document keeps within (the file format and the editor check them)."""

MAX_NAME_LENGTH = 200  # characters of a node's or group's name
MAX_NODES = 100_000
