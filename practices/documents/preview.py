"""A PNG of a document's first page (PDF, with pypdfium2)."""

import os

from practices.documents.base import Kind


def render_preview(
    path: str | os.PathLike, kind: Kind | str, out_path: str | os.PathLike, width: int = 640
) -> bool:
    """Render the first page of a PDF to PNG; False where no registry package can render the format."""
    if str(kind) != "pdf":
        return False
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(os.fspath(path))
    except (pdfium.PdfiumError, OSError):
        return False
    try:
        if len(document) == 0:
            return False
        page = document[0]
        page_width, page_height = page.get_size()
        if page_width <= 0 or page_height <= 0:
            return False
        # Cap the height too, so a freakishly tall page cannot exhaust memory.
        scale = min(width / page_width, 4 * width / page_height)
        page.render(scale=scale).to_pil().save(out_path, format="PNG")
        return True
    except (pdfium.PdfiumError, OSError, ValueError):
        return False
    finally:
        document.close()
