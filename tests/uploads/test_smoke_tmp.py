import pytest

from ledger.models import Transaction

pytestmark = pytest.mark.django_db


def test_it_imports(account, import_bytes):
    data = b"Date;Payee;Amount\n15.03.2024;Bakery;-1.234,50\n15.03.2024;Tram;-2,80\n15.03.2024;Tram;-2,80\n"
    s = import_bytes(account, data, commit=True)
    assert s.counts["imported"] == 3, (s.counts, s.error)
    s2 = import_bytes(account, data, commit=True)
    assert s2.counts["duplicate"] == 3, s2.counts
    assert Transaction.objects.count() == 3
