"""PowerPoint (PPTX): each slide's title and text, tables included (python-pptx)."""

from pathlib import Path

from practices.documents.base import TITLE_CHARS, Unit, _clean
from practices.documents.limits import Limits, _too_many


def _pptx_shape_texts(shapes):
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    for shape in shapes:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _pptx_shape_texts(shape.shapes)
        elif shape.has_text_frame:
            yield shape.text_frame.text
        elif getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                for cell in row.cells:
                    yield cell.text


def _pptx_units(path: Path, limits: Limits) -> list[Unit]:
    from pptx import Presentation

    slides = Presentation(path).slides
    if len(slides) > limits.max_pages:
        raise _too_many("slide", limits)
    units = []
    for number, slide in enumerate(slides, start=1):
        parts = list(_pptx_shape_texts(slide.shapes))
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            parts.append(slide.notes_slide.notes_text_frame.text)
        title_shape = slide.shapes.title
        title = _clean(title_shape.text_frame.text) if title_shape is not None else ""
        text = _clean("\n".join(p for p in parts if p.strip()))
        units.append(Unit(number, "slide", " ".join(title.split())[:TITLE_CHARS], text))
    return units
