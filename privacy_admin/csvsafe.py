"""CSV cells that a spreadsheet cannot run (S-17): every export writes its
cells through `csv_cell`."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """S-17: a cell a spreadsheet would read as a formula is prefixed with '."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
