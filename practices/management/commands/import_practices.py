"""Import good practices from a JSON-lines or CSV file, or from a known source (``--source ce``)."""

from django.core.management.base import BaseCommand, CommandError

from practices import ce_source
from practices.imports.importer import BATCH_SIZE, Importer
from practices.imports.readers import read_file

SOURCES = {"ce": ce_source.records}


class Command(BaseCommand):
    help = "Import practices (JSON lines or CSV in the import format); re-importing updates by external_id."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="a .jsonl or .csv file in the import format")
        parser.add_argument("--source", choices=sorted(SOURCES), help="import a source kept in the project")
        parser.add_argument("--publish", action="store_true", help="publish the pages (default: drafts)")
        parser.add_argument("--dry-run", action="store_true", help="validate and count; write nothing")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args, file=None, source=None, **options):
        if bool(file) == bool(source):
            raise CommandError("Give either a file or --source.")
        if file:
            try:
                pairs = list(read_file(file))
            except OSError as exc:
                raise CommandError(f"Cannot read {file}: {exc}") from exc
        else:
            pairs = list(enumerate(SOURCES[source](), start=1))
        importer = Importer(
            publish=options["publish"],
            dry_run=options["dry_run"],
            batch_size=max(1, options["batch_size"]),
            progress=options["verbosity"] > 0,
        )
        report = importer.run(pairs, total=len(pairs))
        for rejection in report.rejected:
            self.stderr.write(f"Rejected {rejection}")
        prefix = "Dry run: " if options["dry_run"] else ""
        self.stdout.write(prefix + report.summary())
