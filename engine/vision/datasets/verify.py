"""``verify_str_arg``: torchvision's check of a string argument against its allowed values, same messages."""


def verify_str_arg(value, arg=None, valid_values=None, custom_msg=None):
    """``value`` if it is a str among ``valid_values`` (any str when None), else torchvision's ``ValueError``."""
    if not isinstance(value, str):
        where = "" if arg is None else f" for argument {arg}"
        raise ValueError(f"Expected type str{where}, but got type {type(value)}.")
    if valid_values is None or value in valid_values:
        return value
    if custom_msg is not None:
        raise ValueError(custom_msg)
    listed = "'" + "', '".join(str(v) for v in valid_values) + "'"
    raise ValueError(f"Unknown value '{value}' for argument {arg}. Valid values are {{{listed}}}.")
