import pytest

pytestmark = pytest.mark.django_db


def test_it_creates_an_account_and_a_split_transaction(owner, client_for):
    client = client_for(owner)
    account = client.post(
        "/api/v1/accounts/",
        {"name": "Checking", "currency": "EUR", "opening_date": "2024-01-01", "opening_balance": "100.00"},
    ).json()
    assert account.get("balance") == "100.00", account
    food = client.post("/api/v1/categories/", {"name": "Food"}).json()
    fun = client.post("/api/v1/categories/", {"name": "Fun"}).json()
    response = client.post(
        "/api/v1/transactions/",
        {
            "account": account["id"],
            "date": "2024-02-01",
            "amount": "-30.00",
            "payee": "Market",
            "splits": [{"category": food["id"], "amount": "-20.00"}, {"category": fun["id"], "amount": "-10.00"}],
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["splits"][0]["amount"] == "-20.00"
    listed = client.get("/api/v1/transactions/").json()
    assert len(listed["results"]) == 1
    assert client.get(f"/api/v1/accounts/{account['id']}/").json()["balance"] == "70.00"
