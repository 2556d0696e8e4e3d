"""The admin's history (LogEntry.object_repr) keeps str() of each object as it was when the admin acted
on it. Before users and django-axes' logs were named masked (applications/people/masked_names.py), that
was an insured person's full ID number: mask it in the rows already written.

The masking is written out here, not imported, so that this migration keeps doing what it did when the
code it came from changes.
"""

import re

from django.db import migrations

# A document number as applications/identifiers.py recognises one, anywhere in the text.
DOCUMENT_NUMBER = re.compile(r"(?<![0-9A-Z])(\d{17}[\dX]|\d{15}|[HM]\d{8}(?:\d{2})?|\d{8}|\d{10}|[A-Z]{3}\d{12})(?![0-9A-Z])")
NAMED = (("auth", "user"), ("axes", "accesslog"), ("axes", "accessfailurelog"), ("axes", "accessattempt"))


def mask(number):
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_history(apps, schema_editor):
    LogEntry = apps.get_model("admin", "LogEntry")
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = [ContentType.objects.filter(app_label=a, model=m).first() for a, m in NAMED]
    for entry in LogEntry.objects.filter(content_type__in=[t for t in types if t is not None]).iterator():
        masked = DOCUMENT_NUMBER.sub(lambda match: mask(match.group(1)), entry.object_repr)
        if masked != entry.object_repr:
            LogEntry.objects.filter(pk=entry.pk).update(object_repr=masked)


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0012_case_state_writer"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(mask_history, migrations.RunPython.noop)]
