from django.core.management.base import BaseCommand
from django.db import transaction

from agencies.models import Agency, Region
from agencies.reference import load_demo_agencies, load_regions


class Command(BaseCommand):
    help = "Load the GB/T 2260 regions and the demo agency directory (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--no-demo-agencies", action="store_true", help="Load the regions only.")

    @transaction.atomic
    def handle(self, *args, **options):
        regions = load_regions(Region)
        self.stdout.write(f"regions: {regions} rows upserted, {Region.objects.count()} in the table")
        if not options["no_demo_agencies"]:
            agencies = load_demo_agencies(Agency, Region)
            self.stdout.write(f"demo agencies: {agencies} upserted, {Agency.objects.count()} in the table")
