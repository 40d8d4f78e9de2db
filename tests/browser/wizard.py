"""Steps of the admin's import wizard that more than one browser test clicks through."""

from __future__ import annotations

from typing import Any


def map_the_german_csv(page: Any, *, with_description: bool = True) -> None:
    """Step 2 for uploads/samples/de_decimal_comma_bom_crlf.csv: map its columns the way the bank named them
    (the description column only when asked), then go on to the preview."""
    page.select_option("#id_date", "Buchungstag")
    page.select_option("#id_payee", "Empfänger")
    if with_description:
        page.select_option("#id_description", "Verwendungszweck")
    page.select_option("#id_amount", "Betrag")
    page.select_option("#id_decimal", ",")
    page.fill("#id_date_format", "%d.%m.%Y")
    page.click("input[value=Preview]")
    page.wait_for_url("**/wizard/preview/")
