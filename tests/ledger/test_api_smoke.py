import pytest

from tests.ledger.api.support import account as create_account
from tests.ledger.api.support import category, post_transaction

pytestmark = pytest.mark.django_db


def test_it_creates_an_account_and_a_split_transaction(owner, client_for):
    client = client_for(owner)
    account = create_account(client, opening_balance="100.00")
    assert account.get("balance") == "100.00", account
    food, fun = category(client, "Food"), category(client, "Fun")
    response = post_transaction(
        client,
        account["id"],
        amount="-30.00",
        payee="Market",
        splits=[{"category": food["id"], "amount": "-20.00"}, {"category": fun["id"], "amount": "-10.00"}],
    )
    assert response.status_code == 201, response.json()
    assert response.json()["splits"][0]["amount"] == "-20.00"
    listed = client.get("/api/v1/transactions/").json()
    assert len(listed["results"]) == 1
    assert client.get(f"/api/v1/accounts/{account['id']}/").json()["balance"] == "70.00"
