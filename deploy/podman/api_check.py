"""The played app, checked through its API: log in, import a statement, check the transactions.

Usage: api_check.py BASE_URL USERNAME PASSWORD STATEMENT ROWS SUM

Logs in at POST /api/v1/auth/token/ (a wrong password first: it must be refused), creates a household
and an account, uploads STATEMENT to /api/v1/imports/, waits for the preview (inline or on a worker),
checks it has ROWS rows and no errors, commits it, and checks that the account now holds exactly ROWS
transactions summing to SUM and that its balance is opening balance + SUM. Then it builds a statement of
BIG_ROWS rows from the same file (larger than the app's inline limit, so the worker Deployment previews and
commits it: both requests must answer 202) and checks the worker's result the same way.
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import requests


def fail(message: str, response: requests.Response | None = None) -> NoReturn:
    detail = f": HTTP {response.status_code} {response.text[:400]}" if response is not None else ""
    raise SystemExit(f"API CHECK FAILED: {message}{detail}")


def main() -> int:
    base, username, password, statement, rows, total = sys.argv[1:7]
    want_rows, want_sum = int(rows), Decimal(total)
    api = f"{base}/api/v1"
    session = requests.Session()

    wrong = session.post(f"{api}/auth/token/", json={"username": username, "password": password + "x"}, timeout=30)
    if wrong.status_code not in (400, 401, 403):
        fail("a wrong password was not refused", wrong)
    response = session.post(f"{api}/auth/token/", json={"username": username, "password": password}, timeout=30)
    if response.status_code not in (200, 201):
        fail("login", response)
    session.headers["Authorization"] = f"Bearer {response.json()['token']}"
    print(f"login: token for {username} (a wrong password got HTTP {wrong.status_code})")

    household = post(session, f"{api}/households/", {"name": "Podman play", "base_currency": "USD"})
    account = post(
        session,
        f"{api}/accounts/",
        {
            "household": household["id"],
            "name": "Checking",
            "currency": "USD",
            "opening_balance": "100.00",
            "opening_date": "2011-01-01",
        },
    )
    print(f"household {household['id']}, account {account['id']}")

    with Path(statement).open("rb") as handle:
        response = session.post(
            f"{api}/imports/",
            data={"account": account["id"]},
            files={"file": (Path(statement).name, handle, "application/octet-stream")},
            timeout=120,
        )
    if response.status_code not in (200, 201, 202):
        fail("upload", response)
    imported = response.json()
    deadline = time.monotonic() + 180
    while imported["status"] in ("uploaded", "previewing", "queued") and time.monotonic() < deadline:
        time.sleep(1)
        imported = get(session, f"{api}/imports/{imported['id']}/")
    if imported["status"] != "previewed":
        fail(f"import {imported['id']} is {imported['status']}, not previewed: {imported}")
    counts = imported["counts"]
    print(f"import {imported['id']}: previewed, counts {counts}")
    if counts.get("error") or counts.get("new") != want_rows:
        fail(f"the preview should have {want_rows} new rows and no errors: {counts}")

    committed = post(session, f"{api}/imports/{imported['id']}/commit/", {}, expect=200)
    if committed["status"] != "committed":
        fail(f"commit left the import {committed['status']}")
    transactions = get(session, f"{api}/transactions/", params={"account": account["id"], "page_size": 100})
    results = transactions["results"]
    got_sum = sum((Decimal(t["amount"]) for t in results), Decimal("0"))
    print(f"transactions: {len(results)}, sum {got_sum}")
    if len(results) != want_rows or got_sum != want_sum:
        fail(f"expected {want_rows} transactions summing to {want_sum}")
    balance = Decimal(get(session, f"{api}/accounts/{account['id']}/")["balance"])
    if balance != Decimal("100.00") + want_sum:
        fail(f"balance {balance} != 100.00 + {want_sum}")
    print(f"account balance {balance} = 100.00 + {want_sum}")
    background_import(session, api, household["id"], Path(statement))
    return 0


BIG_ROWS = 6000  # about 1.3 MB of OFX: above IMPORT_INLINE_MAX_BYTES (512 KiB), so the worker takes it


def big_statement(template: Path) -> tuple[bytes, Decimal]:
    """The template's header and trailer around BIG_ROWS distinct transactions: -0.01 … -60.00 by cents."""
    text = template.read_text(encoding="latin-1")
    head, _, rest = text.partition("<STMTTRN>")
    tail = rest[rest.rindex("</STMTTRN>") + len("</STMTTRN>") :]
    rows, total = [], Decimal("0")
    for n in range(1, BIG_ROWS + 1):
        amount = Decimal(-n) / 100
        total += amount
        day = f"2012{1 + n % 12:02d}{1 + n % 28:02d}120000.000"
        rows.append(
            f"<STMTTRN>\n<TRNTYPE>DEBIT\n<DTPOSTED>{day}\n<TRNAMT>{amount}\n<FITID>play-{n:06d}\n"
            f"<NAME>Podman play payee {n % 97}\n<MEMO>row {n} of the background import check\n</STMTTRN>\n"
        )
    return (head + "".join(rows) + tail).encode("latin-1"), total


def background_import(session: requests.Session, api: str, household: int, template: Path) -> None:
    body, want_sum = big_statement(template)
    account = post(
        session,
        f"{api}/accounts/",
        {
            "household": household,
            "name": "Big",
            "currency": "USD",
            "opening_balance": "0.00",
            "opening_date": "2011-01-01",
        },
    )
    response = session.post(
        f"{api}/imports/",
        data={"account": account["id"]},
        files={"file": ("big.ofx", body, "application/octet-stream")},
        timeout=120,
    )
    if response.status_code != 202:
        fail(f"a {len(body)}-byte upload should be queued for the worker (202)", response)
    imported = wait_for(session, f"{api}/imports/{response.json()['id']}/", "previewed")
    if imported["counts"].get("error") or imported["counts"].get("new") != BIG_ROWS:
        fail(f"the worker's preview should have {BIG_ROWS} new rows and no errors: {imported['counts']}")
    print(f"import {imported['id']}: {len(body)} bytes previewed by the worker, counts {imported['counts']}")
    response = session.post(f"{api}/imports/{imported['id']}/commit/", json={}, timeout=120)
    if response.status_code != 202:
        fail("the commit of a large import should be queued for the worker (202)", response)
    wait_for(session, f"{api}/imports/{imported['id']}/", "committed")
    balance = Decimal(get(session, f"{api}/accounts/{account['id']}/")["balance"])
    if balance != want_sum:
        fail(f"after the worker's commit the balance is {balance}, not {want_sum}")
    print(f"worker committed {BIG_ROWS} rows: balance {balance} = their sum")


def wait_for(session: requests.Session, url: str, state: str, seconds: float = 300) -> Any:
    deadline = time.monotonic() + seconds
    seen: list[str] = []
    while time.monotonic() < deadline:
        imported = get(session, url)
        if not seen or seen[-1] != imported["state"]:
            seen.append(imported["state"])
        if imported["state"] == state:
            print(f"  states seen: {' -> '.join(seen)}")
            return imported
        if imported["state"] == "failed":
            fail(f"the worker failed the import: {imported.get('progress')}")
        time.sleep(1)
    fail(f"{url} never reached {state} (states seen: {seen})")


def post(session: requests.Session, url: str, body: dict[str, Any], expect: int = 201) -> Any:
    response = session.post(url, json=body, timeout=120)
    if response.status_code != expect:
        fail(f"POST {url}", response)
    return response.json()


def get(session: requests.Session, url: str, params: dict[str, Any] | None = None) -> Any:
    response = session.get(url, params=params, timeout=60)
    if response.status_code != 200:
        fail(f"GET {url}", response)
    return response.json()


if __name__ == "__main__":
    sys.exit(main())
