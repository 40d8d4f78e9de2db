"""One trigram index over UPPER(payee || ' ' || description) for the API's ?search=.

The search read two GIN indexes (UPPER(payee), UPPER(description)) and ORed their bitmaps; a term found in
either column is also in the joined text, so this one index is a complete pre-filter and the exact
two-column condition stays the recheck (ledger.selectors.transaction_page). The two single-column indexes
stay: the admin's search and the payee suggestions read them.

Built CONCURRENTLY: on a million rows it takes a while and must not block writes meanwhile."""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("ledger", "0008_category_day_totals"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="transaction",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper(
                        models.Func(
                            models.F("payee"),
                            models.Value(" "),
                            models.F("description"),
                            function="",
                            arg_joiner=" || ",
                        )
                    ),
                    name="gin_trgm_ops",
                ),
                name="tx_text_upper_trgm_idx",
            ),
        ),
    ]
