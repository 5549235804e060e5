"""The differentiable operations, one family per file; each op works on arrays of either device."""
