# The monthly account total sums any number of amounts: wider than one amount so two maximal ones fit.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0006_invitations"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accountmonthtotal",
            name="total",
            field=models.DecimalField(decimal_places=4, default=0, max_digits=38),
        ),
    ]
