"""Load NACE Rev. 2 sections and divisions from the copy kept in practices/data (see SOURCES.md)."""

import csv
from pathlib import Path

from django.db import migrations
from django.utils.text import slugify

NACE_CSV = Path(__file__).resolve().parent.parent / "data" / "nace-rev2.csv"


def load(apps, schema_editor):
    Industry = apps.get_model("practices", "Industry")
    with NACE_CSV.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    by_code = {}
    for row in sorted(rows, key=lambda r: int(r["level"])):
        industry, _ = Industry.objects.update_or_create(
            code=row["code"],
            defaults={
                "level": int(row["level"]),
                "name": row["name"],
                "parent": by_code.get(row["parent"]),
                "slug": slugify(f"{row['code']}-{row['name']}")[:80],
            },
        )
        by_code[row["code"]] = industry


class Migration(migrations.Migration):
    dependencies = [("practices", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
