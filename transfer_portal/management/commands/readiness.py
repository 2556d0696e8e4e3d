"""The readiness report of /readyz, for processes that serve no HTTP (the worker's and beat's
healthchecks) and for `make stack`, which checks the services before it migrates."""

import sys

from django.core.management.base import BaseCommand

from transfer_portal import health


class Command(BaseCommand):
    help = (
        "Print the readiness report (database, broker, private storage, stuck documents); "
        "exit status 1 when not ready."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--services",
            action="store_true",
            help="Only check that the database and the broker answer (works before migrations have run).",
        )

    def handle(self, *args, **options):
        results = health.readiness(health.SERVICE_CHECKS if options["services"] else health.ALL_CHECKS)
        text = health.report(results)
        if all(result.ok for result in results):
            self.stdout.write(text, ending="")
        else:
            self.stderr.write(text, ending="")
            sys.exit(1)
