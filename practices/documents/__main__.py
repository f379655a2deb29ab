"""The sandboxed child: ``python -m practices.documents PATH --limits JSON [--preview PNG]`` prints JSON."""

import argparse
import dataclasses
import json
import sys

from practices.documents.base import ExtractionFailed
from practices.documents.limits import Limits, _memory_reason
from practices.documents.preview import render_preview
from practices.documents.readers import extract


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print a document's text per page or slide as JSON.")
    parser.add_argument("path")
    parser.add_argument("--limits", default="{}", help="Limits as JSON")
    parser.add_argument("--preview", help="where to write a PNG of the first page")
    args = parser.parse_args(argv)
    limits = Limits(**json.loads(args.limits))
    try:
        extraction = extract(args.path, limits)
        if args.preview:
            rendered = render_preview(args.path, extraction.kind, args.preview)
            extraction = dataclasses.replace(extraction, preview=rendered)
        payload = {"ok": True, "extraction": extraction.to_dict()}
    except ExtractionFailed as e:
        payload = {"ok": False, "reason": e.reason}
    except MemoryError:
        payload = {"ok": False, "reason": _memory_reason(limits)}
    except ImportError as e:
        # Under RLIMIT_AS a library's shared object can fail to map; anything else is a real fault.
        if "map" not in str(e) and "allocate" not in str(e):
            raise
        payload = {"ok": False, "reason": _memory_reason(limits)}
    sys.stdout.write(json.dumps(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
