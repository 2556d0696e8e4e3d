"""Load the GB/T 2260 snapshot (agencies/data/regions.csv) so that every database, test databases
included, can check resident ID address codes. `manage.py load_reference_data` re-runs the same
idempotent loader."""

from django.db import migrations


def load(apps, schema_editor):
    from agencies.reference import load_regions

    load_regions(apps.get_model("agencies", "Region"))


class Migration(migrations.Migration):
    dependencies = [("agencies", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
