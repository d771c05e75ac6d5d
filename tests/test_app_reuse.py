"""The suite's apps share compiled templates and URL builders (app_reuse.py, set up for the
session in conftest.py): what they share must be exactly what each would have compiled."""

from __future__ import annotations

import flask
from app_reuse import SharedBytecode, own_builder

from mapapp import create_app


def test_every_route_builds_its_urls_with_the_code_werkzeug_would_compile_for_it(app):
    checked = 0
    for rule in app.url_map.iter_rules():
        for append_unknown, built in ((False, rule._build), (True, rule._build_unknown)):
            assert built.__func__.__code__ == own_builder(rule, append_unknown).__code__, rule.rule
            checked += 1
    assert checked > 200
    # A second app's rules run the very same builders (compiled once), and build the same URLs.
    other = create_app({"TESTING": True, "DATABASE": app.config["DATABASE"], "SECRET_KEY": "test",
                        "CACHE_DIR": app.config["CACHE_DIR"]})
    first = {(rule.rule, rule.endpoint): rule for rule in app.url_map.iter_rules()}
    for rule in other.url_map.iter_rules():
        assert rule._build.__func__ is first[rule.rule, rule.endpoint]._build.__func__
    with app.test_request_context(), other.test_request_context():
        assert flask.url_for("views.index", lang="fr", q="a b") == "/?lang=fr&q=a+b"


def test_every_template_runs_the_code_jinja_would_compile_for_it(app, client):
    assert client.get("/").status_code == 200  # the shared cache now holds the map page's templates
    env = app.jinja_env
    assert isinstance(env.bytecode_cache, SharedBytecode)
    names = env.list_templates(filter_func=lambda name: name.endswith(".html"))
    assert len(names) > 50
    shared = 0
    for name in names:
        source, filename, _ = env.loader.get_source(env, name)
        code = env.bytecode_cache.get_bucket(env, name, filename, source).code
        if code is not None:
            assert code == env.compile(source, name, filename), name
            shared += 1
    assert shared >= 3  # the map page and the templates it extends and includes


def test_an_edited_template_is_compiled_again(tmp_path):
    cache = SharedBytecode()
    pages = []
    for text in ("first {{ 1 + 1 }}", "second {{ 2 + 2 }}"):
        (tmp_path / "t.html").write_text(text)
        flask_app = flask.Flask(__name__, template_folder=str(tmp_path))
        flask_app.jinja_env.bytecode_cache = cache
        with flask_app.app_context():
            pages.append(flask.render_template("t.html"))
    assert pages == ["first 2", "second 4"]
