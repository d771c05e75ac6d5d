"""Sign-in under attack: parallel guesses, reverse proxies, copied cookies, old sessions."""

from __future__ import annotations

import threading
import time

from support import PASSWORD, csrf_from, sign_in

from mapapp import accounts, catalogue, create_app


def test_forty_parallel_guesses_get_no_more_than_the_free_attempts(db_path, staff, monkeypatch):
    checked = []
    real_check = accounts.check_password_hash

    def counting_check(hashed, password):
        checked.append(password)
        time.sleep(0.05)  # a slow hash widens the window between check and count
        return real_check(hashed, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting_check)
    barrier = threading.Barrier(40)
    outcomes = []

    def guess(n: int) -> None:
        db = catalogue.connect(db_path)
        db.execute("PRAGMA busy_timeout = 30000")
        barrier.wait()
        outcomes.append(accounts.authenticate(db, "admin@example.org", f"guess {n}", "203.0.113.9")[0])
        db.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outcomes) == 40 and not any(outcomes)
    assert len(checked) <= accounts.FREE_FAILURES


def test_the_right_password_after_the_free_attempts_waits_too(db, staff):
    for n in range(accounts.FREE_FAILURES):
        assert accounts.authenticate(db, "admin@example.org", f"wrong {n}", "198.51.100.1", now=1000.0)[0] is None
    user, wait = accounts.authenticate(db, "admin@example.org", PASSWORD, "198.51.100.1", now=1000.5)
    assert user is None and wait > 0
    user, wait = accounts.authenticate(db, "admin@example.org", PASSWORD, "198.51.100.1", now=1000.0 + 60)
    assert user is not None and wait == 0


def _proxied_app(db_path, tmp_path, **settings):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache"), **settings})


def _login(client, email, password, forwarded_for, proto="http"):
    headers = {"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": proto}
    token = csrf_from(client.get("/login", headers=headers).get_data(as_text=True))
    return client.post("/login", headers=headers,
                       data={"email": email, "password": password, "csrf_token": token})


def test_behind_a_proxy_one_clients_failures_do_not_lock_out_the_others(db_path, tmp_path, staff):
    app = _proxied_app(db_path, tmp_path, TRUSTED_PROXIES=1)
    attacker = app.test_client()
    for n in range(6):
        _login(attacker, f"nobody{n}@example.org", "wrong password", "192.0.2.66")
    assert _login(attacker, "x@example.org", "wrong password", "192.0.2.66").status_code == 429
    colleague = app.test_client()
    assert _login(colleague, "editor@example.org", PASSWORD, "198.51.100.7").status_code == 302


def test_without_trusted_proxies_forwarded_headers_are_ignored(db_path, tmp_path, staff):
    app = _proxied_app(db_path, tmp_path)
    attacker = app.test_client()
    for n in range(6):
        # A different forged address each time does not escape the throttle.
        _login(attacker, f"nobody{n}@example.org", "wrong password", f"192.0.2.{n}")
    assert _login(attacker, "editor@example.org", PASSWORD, "192.0.2.200").status_code == 429


def test_the_session_cookie_is_secure_behind_an_https_proxy_or_when_forced(db_path, tmp_path, staff):
    proxied = _proxied_app(db_path, tmp_path, TRUSTED_PROXIES=1)
    response = _login(proxied.test_client(), "editor@example.org", PASSWORD, "198.51.100.7", proto="https")
    assert "Secure" in response.headers["Set-Cookie"]
    forced = _proxied_app(db_path, tmp_path, SECURE_COOKIES="1")
    response = _login(forced.test_client(), "admin@example.org", PASSWORD, "198.51.100.8")
    assert "Secure" in response.headers["Set-Cookie"]
    plain = _proxied_app(db_path, tmp_path)
    response = _login(plain.test_client(), "admin@example.org", PASSWORD, "198.51.100.9")
    assert "Secure" not in response.headers["Set-Cookie"]


def test_a_cookie_copied_before_sign_out_no_longer_opens_the_staff_area(app, staff):
    client = app.test_client()
    sign_in(client, "editor@example.org")
    assert client.get("/admin").status_code == 200
    stolen = client.get_cookie("session").value
    token = csrf_from(client.get("/admin").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/admin").status_code == 302  # to the sign-in page


def test_a_deactivated_account_loses_its_open_sessions(app, db, staff):
    client = app.test_client()
    sign_in(client, "editor@example.org")
    assert client.get("/admin").status_code == 200
    accounts.update_user(db, staff["editor"].id, active=False, acting=staff["admin"])
    assert client.get("/admin").status_code == 302


def test_sessions_end_after_the_configured_lifetime(app, staff, monkeypatch):
    client = app.test_client()
    sign_in(client, "editor@example.org")
    assert client.get("/admin").status_code == 200
    later = time.time() + app.permanent_session_lifetime.total_seconds() + 60
    monkeypatch.setattr("mapapp.web.auth.time.time", lambda: later)
    assert client.get("/admin").status_code == 302
    assert app.permanent_session_lifetime.total_seconds() == 12 * 3600


def test_staff_and_sign_in_pages_are_never_cached(app, staff):
    client = app.test_client()
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    sign_in(client, "admin@example.org")
    for url in ("/admin", "/admin/organisations", "/admin/imports", "/admin/users"):
        assert client.get(url).headers["Cache-Control"] == "no-store", url
    assert "no-store" not in (client.get("/").headers.get("Cache-Control") or "")
