"""Sign-in for staff: Flask-Login sessions, CSRF on every form, role checks; "forgot your
password?" and its link; one's own account (password, language, the moderation digest)."""

from __future__ import annotations

import time
from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect

from .. import accounts, vocab
from ..contributing import antispam
from ..translate import translated
from . import jobqueue, mailing
from .db import get_db
from .i18n import current_language
from .tokens import carries_token

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()


class SessionUser(UserMixin):
    """The signed-in staff member, as Flask-Login sees them."""

    def __init__(self, user: accounts.User):
        self.user = user
        # The session carries the user's session version: signing out anywhere, or a
        # change of role, makes every older session invalid on the server.
        self.id = f"{user.id}:{user.session_version}"
        self.email = user.email
        self.role = user.role

    @property
    def is_active(self) -> bool:
        return self.user.active

    @property
    def is_admin(self) -> bool:
        return self.user.is_admin


@login_manager.user_loader
def load_user(session_id: str) -> SessionUser | None:
    user_id, _sep, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None  # a session from before session versions, or forged
    signed_in_at = session.get("signed_in_at")
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    if not isinstance(signed_in_at, (int, float)) or time.time() - signed_in_at > lifetime:
        return None
    user = accounts.find_user(get_db(), user_id=int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return SessionUser(user)


class SessionInterface(SecureCookieSessionInterface):
    """Session cookies are ``Secure`` as ``MAPAPP_SECURE_COOKIES`` says, or else whenever
    the request came over https (behind proxies: as their X-Forwarded-Proto says)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        forced = str(app.config.get("SECURE_COOKIES", ""))
        if forced in ("0", "1"):
            return forced == "1"
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure

    def save_session(self, app: Flask, session, response) -> None:
        super().save_session(app, session, response)
        if g.get("same_for_everyone"):  # a public map answer (web.apihttp): one copy in a shared cache
            kept = [name for name in response.vary if name.lower() != "cookie"]
            response.headers["Vary"] = ", ".join(kept)


def role_required(*roles: str):
    """Only signed-in staff with one of ``roles`` may open the view."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorate


def safe_next(target: str | None, default: str | None = None) -> str:
    """Where to go next (after signing in, after a form): only a path on this site."""
    if target:
        parts = urlsplit(target)
        if (not parts.scheme and not parts.netloc and target.startswith("/")
                and not target.startswith("//") and "\\" not in target):
            return target
    return default or url_for("admin.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with e-mail and password."""
    error = None
    status = 200
    if request.method == "POST":
        email = request.form.get("email", "")
        user, wait = accounts.authenticate(get_db(), email, request.form.get("password", ""),
                                           request.remote_addr or "unknown")
        if user:
            _signed_in(user)
            return redirect(safe_next(request.args.get("next")))
        status = 429 if wait > 0 else 401
        error = (_("Too many failed attempts: try again in %(n)s seconds.", n=int(wait) + 1)
                 if wait > 0 else _("Wrong e-mail or password."))
    return render_template("login.html", error=error), status


@bp.post("/logout")
def logout():
    """Sign out, here and in every other session of the same account."""
    if current_user.is_authenticated:
        accounts.end_sessions(get_db(), current_user.user.id)
    logout_user()
    session.clear()
    flash(_("You are signed out."))
    return redirect(url_for("views.index"))


def _signed_in(user: accounts.User) -> None:
    session.clear()
    session.permanent = True
    session["signed_in_at"] = time.time()
    login_user(SessionUser(user))


@bp.route("/login/forgot", methods=["GET", "POST"])
def forgot():
    """Ask for a link that sets a new password. The answer is the same whether or not the
    address is an account's; the link is made and sent by the job worker."""
    problem, status = None, 200
    if request.method == "POST":
        mailing.settings()  # no public address: the 503 page, for every address alike
        config = current_app.config
        try:
            reset_id = accounts.request_reset(
                get_db(), request.form.get("email", ""), secret=config["SECRET_KEY"],
                client=antispam.client_key(request.remote_addr or "unknown", config["SECRET_KEY"]))
        except accounts.ResetRefused as refused:
            problem, status = translated(refused.args[0], current_language()), 429
        else:
            jobqueue.current().password_reset(reset_id)
            return render_template("password_sent.html")
    return render_template("password_forgot.html", problem=problem), status


@bp.route("/login/reset/<token>", methods=["GET", "POST"])
@carries_token
def reset(token: str):
    """The e-mailed link: choose a new password (once; every session of the account ends)."""
    db = get_db()
    try:
        user = accounts.reset_account(db, token)
    except accounts.AccountError as e:
        return render_template("password_reset.html", dead=translated(e.args[0], current_language())), 410
    problem = None
    if request.method == "POST":
        try:
            accounts.reset_password(db, token, request.form.get("password", ""), request.form.get("repeat", ""))
        except accounts.AccountError as e:
            problem = translated(e.args[0], current_language())
        else:
            logout_user()
            session.clear()
            flash(_("Your password is changed: sign in with it."))
            return redirect(url_for("auth.login"))
    return render_template("password_reset.html", email=user.email, problem=problem,
                           minimum=accounts.MIN_PASSWORD), (400 if problem else 200)


@bp.route("/admin/account", methods=["GET", "POST"])
@role_required("admin", "editor")
def account():
    """My account: the language of one's messages, the moderation digest, one's password."""
    db = get_db()
    user = current_user.user
    problem, status = None, 200
    if request.method == "POST":
        try:
            if request.form.get("action") == "password":
                changed = accounts.change_password(db, user, request.form.get("current", ""),
                                                   request.form.get("password", ""), request.form.get("repeat", ""))
                _signed_in(changed)  # this session goes on; every other one ended
                flash(_("Your password is changed; your other sessions are signed out."))
            else:
                accounts.set_preferences(db, user, lang=request.form.get("lang", ""),
                                         notify_moderation=request.form.get("notify") == "1")
                flash(_("Saved."))
            return redirect(url_for("auth.account"))
        except accounts.AccountError as e:
            problem, status = translated(e.args[0], current_language()), 400
    return render_template("admin/account.html", account=accounts.find_user(db, user_id=user.id), problem=problem,
                           languages=vocab.LANGUAGE_NAMES, minimum=accounts.MIN_PASSWORD), status


def init_app(app: Flask) -> None:
    """Sessions, CSRF and sign-in for the app."""
    # Flask's defaults are None: set them unless the deployment chose otherwise.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.permanent_session_lifetime = timedelta(hours=int(app.config.get("SESSION_HOURS", 12)))
    app.session_interface = SessionInterface()
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.init_app(app)
    csrf.init_app(app)
    app.register_blueprint(bp)
