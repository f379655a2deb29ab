"""Generated slide decks of the fictional example workshop: small PDFs made by code, plainly marked.

The writer is a minimal valid PDF, object by object (Helvetica, one text line per string), the kind
any upload could be: its text is extracted and indexed like any other document's.
"""

import io
import textwrap

EXAMPLE_BANNER = "EXAMPLE - fictional slides, made for demonstration"


def _pdf_string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"({escaped})".encode("cp1252")


def pdf_bytes(
    pages: list[list[str]], *, size: tuple[int, int] = (612, 792), title_size: int | None = None
) -> bytes:
    """A minimal valid PDF, written object by object: one page per item, one text line per string.

    With ``title_size`` each page's lines up to the first blank one are set larger, as a slide's heading.
    """
    width, height = size
    n = len(pages)
    font_id = 3 + 2 * n
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(f"{3 + 2 * i} 0 R".encode() for i in range(n))
        + f"] /Count {n} >>".encode(),
    ]
    for i, lines in enumerate(pages):
        head = b""
        if title_size and lines:
            # The heading: the lines before the first blank one.
            n = lines.index("") if "" in lines else 1
            head = f"/F1 {title_size} Tf {title_size + 8} TL ".encode()
            head += b" ".join(_pdf_string(line) + b" '" for line in lines[:n]) + b" /F1 18 Tf 24 TL "
            lines = lines[n:]
        shown = head + b" ".join(_pdf_string(line) + b" '" for line in lines)
        content = f"BT /F1 18 Tf 24 TL 72 {height - 72} Td ".encode() + shown + b" ET"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        objects.append(f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")

    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def deck(title: str, slides: list[tuple[str, list[str]]]) -> bytes:
    """A 16:9 slide deck: a title slide, then one slide per (heading, lines), each marked as an example."""
    pages = [[*textwrap.wrap(title, 40), "", "Example workshop (fictional)", "", EXAMPLE_BANNER]]
    pages += [
        [heading, "", *(f"- {line}" for line in lines), "", EXAMPLE_BANNER] for heading, lines in slides
    ]
    return pdf_bytes(pages, size=(720, 405), title_size=28)
