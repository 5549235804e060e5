"""LayerLab's desktop application (PySide6): the node editor and the training panels.

A view on ``engine.graph`` and a driver of ``engine.training``; it holds no model of its own.
"""
