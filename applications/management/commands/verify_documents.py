"""Check that every stored official document and material still matches its recorded SHA-256."""

import hashlib

from django.core.management.base import BaseCommand, CommandError

from applications.models import Material, OfficialDocument


def file_digest(field):
    digest = hashlib.sha256()
    with field.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Command(BaseCommand):
    help = (
        "Verify the SHA-256 of every ready document and every material; exits 1 if any differs or is missing."
    )

    def handle(self, *args, **options):
        problems = checked = 0
        stored = [
            *OfficialDocument.objects.filter(status=OfficialDocument.Status.READY).select_related(
                "application"
            ),
            *Material.objects.select_related("application"),
        ]
        for item in stored:
            label = f"{type(item).__name__} {item.pk} ({item.application.reference})"
            checked += 1
            try:
                actual = file_digest(item.file)
            except (FileNotFoundError, ValueError):
                problems += 1
                self.stderr.write(f"MISSING  {label}: {item.file.name}")
                continue
            if actual != item.sha256:
                problems += 1
                self.stderr.write(
                    f"CHANGED  {label}: {item.file.name}: recorded {item.sha256}, file {actual}"
                )
        self.stdout.write(f"{checked} files checked, {problems} problems")
        if problems:
            raise CommandError(f"{problems} stored files do not match their recorded SHA-256")
