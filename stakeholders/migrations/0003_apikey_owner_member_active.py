"""API keys get an owner (first the admin who issued them) and a suspension time; members an
active flag. Reversible: going back drops the new columns, and the owners copied forward
are the issuers that stay in created_by."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def owners_are_issuers(apps, schema_editor):
    ApiKey = apps.get_model("stakeholders", "ApiKey")
    ApiKey.objects.update(owner=models.F("created_by"))
    if schema_editor.connection.vendor == "postgresql":
        # Check the new foreign keys now: PostgreSQL refuses to alter a table with checks
        # still pending in the transaction.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("stakeholders", "0002_refused_or_cancelled_file_again"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="institutionmember",
            name="is_active",
            field=models.BooleanField(default=True, verbose_name="active"),
        ),
        migrations.AddField(
            model_name="institutionmember",
            name="deactivated_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="deactivated at"),
        ),
        migrations.AddField(
            model_name="apikey",
            name="suspended_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="suspended at"),
        ),
        migrations.AddField(
            model_name="apikey",
            name="owner",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="held by",
            ),
        ),
        migrations.RunPython(owners_are_issuers, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apikey",
            name="owner",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="held by",
            ),
        ),
    ]
