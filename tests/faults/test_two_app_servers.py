"""Two app servers (gunicorn, on two loopback ports) sharing one database, one Redis and one uploads
directory behave as one: a login on one works on the other, a logout on one holds on the other, a file
uploaded through one downloads through the other, an import started on one commits on the other."""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
from pathlib import Path

import requests

from tests.faults.throwaway import Postgres, app_env, collect_static, drive, fresh_database, gunicorn, redis

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n" + b"% two servers\n"
CSV = b"Date,Payee,Amount\n2024-03-15,Tram,-2.80\n2024-03-16,Bakery,-3.10\n"


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def on(base: str, session_cookies: dict[str, str]) -> requests.Session:
    """A browser talking to one server only, carrying the given cookies."""
    client = requests.Session()
    for name, value in session_cookies.items():
        client.cookies.set(name, value, domain="127.0.0.1", path="/")
    return client


def test_two_app_servers_share_sessions_files_and_imports(fault_cluster: Postgres, tmp_path: Path) -> None:
    env_base = collect_static(
        app_env(fresh_database(fault_cluster, "ft_two_servers"), tmp_path / "uploads"), tmp_path / "static"
    )
    person = drive(env_base, "setup")[0]
    with contextlib.ExitStack() as stack:
        redis_url = stack.enter_context(redis())
        # Plain HTTP on loopback (no TLS proxy in front): cookies without the Secure flag.
        env = {
            **env_base,
            "REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": "ft-two",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
        }
        first = stack.enter_context(gunicorn(env, tmp_path / "first"))
        second = stack.enter_context(gunicorn(env, tmp_path / "second"))

        # A login on the first server…
        browser = requests.Session()
        login_page = browser.get(f"{first}/admin/login/", timeout=10)
        response = browser.post(
            f"{first}/admin/login/?next=/admin/",
            data={
                "username": person["username"],
                "password": PASSWORD,
                "csrfmiddlewaretoken": csrf_of(login_page.text),
            },
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, response.text[:500]
        cookies = {name: value or "" for name, value in browser.cookies.get_dict().items()}
        assert "sessionid" in cookies
        # …works on the second.
        other = on(second, cookies)
        assert other.get(f"{second}/api/v1/accounts/", timeout=10).json()["results"][0]["id"] == person["account"]
        admin_page = other.get(f"{second}/admin/", allow_redirects=False, timeout=10)
        assert admin_page.status_code == 200

        # A logout on the second holds on the first.
        assert other.post(
            f"{second}/admin/logout/", data={"csrfmiddlewaretoken": csrf_of(admin_page.text)}, timeout=10
        ).ok
        stale = on(first, cookies)
        assert stale.get(f"{first}/api/v1/accounts/", timeout=10).status_code in (401, 403)
        assert stale.get(f"{first}/admin/", allow_redirects=False, timeout=10).status_code == 302

        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {person['token']}"
        # A file uploaded through one downloads, byte for byte, through the other.
        created = api.post(f"{first}/api/v1/attachments/", files={"file": ("r.pdf", io.BytesIO(PDF))}, timeout=10)
        assert created.status_code == 201, created.text
        download = api.get(f"{second}/api/v1/attachments/{created.json()['id']}/download/", timeout=10)
        assert download.status_code == 200
        assert hashlib.sha256(download.content).hexdigest() == hashlib.sha256(PDF).hexdigest()

        # An import previewed on one commits on the other, once.
        started = api.post(
            f"{first}/api/v1/imports/",
            data={"account": person["account"]},
            files={"file": ("s.csv", io.BytesIO(CSV))},
            timeout=30,
        )
        assert started.status_code == 201, started.text
        assert started.json()["status"] == "previewed"
        committed = api.post(f"{second}/api/v1/imports/{started.json()['id']}/commit/", json={}, timeout=30)
        assert committed.status_code == 200, committed.text
        assert committed.json()["counts"]["imported"] == 2
        again = api.post(f"{first}/api/v1/imports/{started.json()['id']}/commit/", json={}, timeout=30)
        assert again.status_code == 409
        transactions = api.get(f"{first}/api/v1/transactions/", params={"account": person["account"]}, timeout=10)
        assert len(transactions.json()["results"]) == 2
