"""Plain-text tables for the terminal."""



def format_table(headers, rows, align=None):
    """Columns padded to their widest cell, two spaces apart; ``align`` is one of 'l'/'r' per column
    (numbers read best right-aligned)."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    align = align or "l" * len(headers)
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row):
        parts = [cell.rjust(w) if a == "r" else cell.ljust(w) for cell, w, a in zip(row, widths, align)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule] + [line(row) for row in cells[1:]])


def count(n):
    """``62,006``."""
    return f"{n:,}"


def dims(shape):
    """``3×32×32``."""
    return "×".join(str(d) for d in shape)
