"""The ``mapapp`` command: thin click commands over the working modules.

Each command imports what it uses when it runs: ``mapapp --help`` and the light commands start
without loading the web app's drawing and mapping libraries (matplotlib, scipy, folium)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo, routes_command, shell_command, with_appcontext

from . import vocab


def _open_catalogue():
    from . import catalogue
    from .catalogue.migrations import SchemaError

    try:
        return catalogue.connect(current_app.config["DATABASE"])
    except (catalogue.CatalogueError, SchemaError) as e:
        raise click.ClickException(str(e)) from None


def _create_app():
    from . import create_app
    from .config import ConfigError

    try:
        return create_app(upgrade=False)  # each command opens (and upgrades) the catalogue itself
    except ConfigError as e:
        raise click.ClickException(str(e)) from None


# A plain group, not Flask's FlaskGroup (which creates the app to list the commands): the app
# is created by the first command that needs it (``with_appcontext``).
@click.group(context_settings={"obj": ScriptInfo(create_app=_create_app, load_dotenv_defaults=False)})
def main() -> None:
    """mapapp: the social and solidarity economy map.

    The catalogue is MAPAPP_DATABASE (default data/mapapp.db).
    """


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create the catalogue, or bring its schema up to date."""
    from . import catalogue

    path = current_app.config["DATABASE"]
    db = _open_catalogue()
    count = catalogue.organisation_count(db)
    click.echo(f"catalogue ready at {path} ({count} organisations)")


@click.command("load-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True,
              help="Load only when the catalogue holds no organisation yet.")
def load_demo_command(if_empty: bool) -> None:
    """Load the fictional demo dataset (safe to run again: nothing is duplicated)."""
    from . import catalogue
    from .importing import demo

    db = _open_catalogue()
    if if_empty and catalogue.organisation_count(db):
        click.echo("catalogue already has organisations; demo data not loaded")
        return
    if if_empty and demo.latest_removal(db):  # removed on purpose: a second `make run` keeps it out
        click.echo("the demo data was removed from this catalogue; not loaded again (`mapapp remove-demo --undo` "
                   "brings it back)")
        return
    counts = demo.load_demo(db)
    click.echo("demo data (fictional): " + ", ".join(f"{n} {k}" for k, n in counts.items()))


@click.command("remove-demo")
@with_appcontext
@click.option("--yes", is_flag=True, help="Remove without asking for confirmation.")
@click.option("--undo", is_flag=True, help="Bring back the demo data of the latest removal instead.")
def remove_demo_command(yes: bool, undo: bool) -> None:
    """Remove the fictional demo data (organisations, projects, visits; real organisations stay),
    recorded in the history so that `--undo` or the staff dashboard can bring it back."""
    from .importing import demo

    db = _open_catalogue()
    if undo:
        removal = demo.latest_removal(db)
        if removal is None:
            raise click.ClickException("no removal of the demo data to undo")
        try:
            counts = demo.undo_removal(db, removal["id"], "command line")
        except demo.CannotUndo as e:
            raise click.ClickException(str(e)) from e
        click.echo(f"demo data restored: {counts['organisations']} organisations, {counts['projects']} projects, "
                   f"{counts['visits']} visits")
        return
    counts = demo.removal_preview(db)
    if not counts["organisations"] and not counts["projects"]:
        click.echo("there is no demo data in this catalogue: nothing removed")
        return
    plan = (f"{counts['organisations']} organisations, {counts['projects']} projects, {counts['visits']} visits"
            + (f"; {counts['real_members']} real organisations lose their membership of a demo project"
               if counts["real_members"] else ""))
    if not yes:
        click.confirm(f"remove the demo data ({plan})?", abort=True)
    try:
        counts = demo.remove_demo(db, "command line", cache_dir=current_app.config["CACHE_DIR"])
    except demo.NothingToRemove:
        click.echo("there is no demo data in this catalogue: nothing removed")
        return
    click.echo(f"demo data removed: {plan}; undo with `mapapp remove-demo --undo`")


@click.command("serve")
@with_appcontext
@click.option("--host", default=None, help="Address to listen on [default: MAPAPP_HOST or 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port to listen on [default: MAPAPP_PORT or 5000].")
@click.option("--debug", is_flag=True, help="Reload on code changes and show tracebacks (never in production).")
def serve_command(host: str | None, port: int | None, debug: bool) -> None:
    """Serve the map with Flask's development server (use gunicorn in production)."""
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()
    _open_catalogue()
    host = host or app.config["HOST"]
    port = port or app.config["PORT"]
    click.echo(f"serving the map on http://{host}:{port}/ (Ctrl-C to stop)")
    try:
        # app.run() refuses to start inside the flask CLI, so call werkzeug directly.
        app.debug = debug
        run_simple(host, port, app, use_reloader=debug, use_debugger=debug, threaded=True)
    except OSError as e:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {e.strerror or e}; choose another port with "
            "--port or MAPAPP_PORT") from None


@click.command("stats")
@with_appcontext
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def stats_command(as_json: bool) -> None:
    """Show what the catalogue holds: organisations by status and country, projects, visits."""
    from . import catalogue

    figures = catalogue.stats(_open_catalogue())
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    click.echo(f"organisations: {figures['organisations']}")
    for status, n in figures["by_status"].items():
        click.echo(f"  {status}: {n}")
    click.echo(f"  located: {figures['located']}, not located: {figures['not_located']}")
    click.echo("by country: " + ", ".join(f"{c} {n}" for c, n in figures["by_country"].items()))
    click.echo(f"projects: {figures['projects']}, visits: {figures['visits']}")


@click.command("import")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--sheet", help="Sheet to read in an XLSX or ODS workbook [default: the first].")
@click.option("--mapping", type=click.Path(dir_okay=False),
              help="YAML file mapping this file's headers to fields (see data/import/mapping-example.yml).")
@click.option("--source", help="Name of this data source; re-imports under the same source update "
              "instead of duplicating [default: the file name].")
@click.option("--project", help="Slug of a project to add every imported organisation to (a row's "
              "'Project' cell, by slug or name, wins).")
@click.option("--relation", type=click.Choice(vocab.RELATIONS),
              help="The organisations' relation to the project (a row's 'Relation' cell wins).")
@click.option("--visit", help="Slug of a visit to add every imported organisation to (and to its project; "
              "a row's 'Visit' cell wins).")
@click.option("--status", type=click.Choice(["draft", "published"]),
              help="Status of the organisations [default: draft for new ones; stored ones keep theirs].")
@click.option("--dry-run", is_flag=True, help="Do everything but save, and print the same report.")
@click.option("--batches", is_flag=True,
              help="Commit about a second's worth of rows at a time (as imports from the browser and syncs "
              "do), so that staff edits and contributions go on meanwhile; a failure takes back what was "
              "written [default: one transaction, which edits wait for].")
@click.option("--report", "report_path", type=click.Path(dir_okay=False),
              help="Also write the row-by-row report to this CSV file.")
@click.option("--no-geocode", is_flag=True,
              help="Use only the coordinates in the file (checked); look up no address.")
@click.option("--encoding", help="Encoding of a CSV file [default: detected; e.g. utf-8, cp1252].")
@click.option("--delimiter", help="Column separator of a CSV file [default: detected; e.g. ';' or '\\t'].")
@click.option("--country", help="ISO code (or name) of the country of every row that gives none, e.g. GB "
              "[default: inferred from the coordinates, postcodes or towns].")
@click.option("--duplicates", type=click.Choice(["skip", "update", "create"]), default="skip", show_default=True,
              help="A new row that looks like an organisation already stored (same name nearby, or same "
              "website): leave it out, update the stored organisation with it, or create it anyway. "
              "'skip' changes nothing stored and doubles nothing; the report lists each one.")
def import_command(file, sheet, mapping, source, project, relation, visit, status, dry_run, batches, report_path,
                   no_geocode, encoding, delimiter, country, duplicates) -> None:
    """Import organisations from a CSV, XLSX, ODS or GeoJSON FILE."""
    from .importing import importer

    db = _open_catalogue()
    chain = _chain(db)
    options = importer.Options(source=source, project=project, relation=relation, visit=visit,
                               status=status, dry_run=dry_run,
                               geocode=not no_geocode, sheet=sheet, encoding=encoding,
                               delimiter=delimiter, mapping=mapping, country=country, duplicates=duplicates,
                               batch_size=importer.FIRST_BATCH if batches else None)
    try:
        report = importer.import_file(db, file, options, chain)
    except importer.ImportFailed as e:
        raise click.ClickException(f"nothing was imported: {e}") from None
    click.echo(report.summary())
    if report_path:
        report.write_csv(report_path)
        click.echo(f"report written to {report_path}")


def _chain(db):
    from .mapdata import geocode

    try:
        return geocode.chain_from_settings(current_app.config, db)
    except geocode.GeocodeConfigError as e:
        raise click.ClickException(str(e)) from None


@click.command("geocode")
@with_appcontext
@click.option("--pending", is_flag=True, help="Only organisations that have no location yet.")
@click.option("--provider", help="Use only this geocoder (for example gazetteer or nominatim) "
              "instead of the MAPAPP_GEOCODERS chain.")
@click.option("--list", "list_only", is_flag=True, help="List the organisations without a location and stop.")
def geocode_command(pending: bool, provider: str | None, list_only: bool) -> None:
    """Locate stored organisations again with the geocoder chain (manual pins are never moved)."""
    from . import catalogue
    from .mapdata import geocode

    db = _open_catalogue()
    if list_only:
        orgs = catalogue.organisations_to_locate(db, pending_only=True)
        for org in orgs:
            place = ", ".join(p for p in (org["street"], org["postcode"], org["city"], org["country"]) if p)
            click.echo(f"{org['slug']}\t{org['name']}\t{place or 'no address'}")
        click.echo(f"{len(orgs)} organisations have no location")
        return
    if provider:
        settings = {**current_app.config, "GEOCODERS": provider}
        try:
            chain = geocode.chain_from_settings(settings, db)
        except geocode.GeocodeConfigError as e:
            raise click.ClickException(str(e).replace("MAPAPP_GEOCODERS", "--provider")) from None
    else:
        chain = _chain(db)
    counts = geocode.relocate(db, chain, pending_only=pending)
    click.echo(f"{counts['located']} located, {counts['moved']} moved, "
               f"{counts['unchanged']} unchanged, {counts['not_located']} still without a location")
    for note in counts["notes"][:50]:
        click.echo(f"  {note}")


@click.command("create-project")
@with_appcontext
@click.argument("slug")
@click.option("--name", required=True, help="The project's name as shown to visitors.")
@click.option("--name-in", "names", multiple=True, metavar="LANG=NAME",
              help="The name in another language, e.g. --name-in 'fr=Visites d'étude' (repeatable).")
@click.option("--description", default="", help="A sentence or two about the project.")
@click.option("--website", default="", help="The project's website (http or https).")
def create_project_command(slug: str, name: str, names: tuple[str, ...], description: str, website: str) -> None:
    """Create (or rename) the project SLUG (the same as ``mapapp project create``)."""
    _save_project(slug, name, names, description, website)


def _close_slugs(db, slug: str) -> str:
    import difflib

    from . import catalogue

    close = difflib.get_close_matches(slug, sorted(catalogue.all_slugs(db)), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(close)}?" if close else ""


def _organisation(db, slug: str) -> int:
    from .catalogue import memberships

    org_id = memberships.organisation_id(db, slug)
    if org_id is None:
        raise click.ClickException(f"no organisation '{slug}'{_close_slugs(db, slug)}")
    return org_id


def _project(db, slug: str) -> int:
    from . import catalogue

    project_id = catalogue.project_id(db, slug)
    if project_id is None:
        known = ", ".join(catalogue.project_slugs(db)) or "none yet"
        raise click.ClickException(f"no project '{slug}' (projects: {known}); "
                                   f"create it with: mapapp project create {slug} --name NAME")
    return project_id


def _date(value: str | None, option: str) -> str | None:
    import datetime

    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.ClickException(f"{option} '{value}': write a date as YYYY-MM-DD, e.g. 2026-05-14") from None


def _table(rows: list[dict], keys: tuple[str, ...]) -> None:
    cells = [[("" if r[k] is None else str(r[k])) for k in keys] for r in rows]
    widths = [max([len(k), *(len(c[i]) for c in cells)]) for i, k in enumerate(keys)]
    for line in ([list(keys)] + cells):
        click.echo("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())


@click.group("project")
def project_group() -> None:
    """Projects: create them, add organisations with their relation, list them."""


@project_group.command("create")
@with_appcontext
@click.argument("slug")
@click.option("--name", required=True, help="The project's name as shown to visitors.")
@click.option("--name-in", "names", multiple=True, metavar="LANG=NAME",
              help="The name in another language, e.g. --name-in 'fr=Visites d'étude' (repeatable).")
@click.option("--starts", help="First day of the project (YYYY-MM-DD).")
@click.option("--ends", help="Last day of the project (YYYY-MM-DD).")
@click.option("--description", default="", help="A sentence or two about the project.")
@click.option("--website", default="", help="The project's website (http or https).")
def project_create_command(slug: str, name: str, names: tuple[str, ...], starts: str | None, ends: str | None,
                           description: str, website: str) -> None:
    """Create (or rename) the project SLUG, so that imports can use --project SLUG."""
    start, end = _date(starts, "--starts"), _date(ends, "--ends")
    if start and end and end < start:
        raise click.ClickException(f"--ends {end} is before --starts {start}")
    _save_project(slug, name, names, description, website, start, end)


def _save_project(slug, name, names, description, website, start=None, end=None) -> None:
    from . import catalogue
    from .importing.normalise import clean_text, parse_website

    if slug != catalogue.slugify(slug):
        raise click.ClickException(f"'{slug}' is not a valid slug; use for example '{catalogue.slugify(slug)}'")
    name = clean_text(name)  # no line breaks or control characters in a name shown everywhere
    if not name:
        raise click.ClickException("--name: give the project a name")
    url, problem = parse_website(website)
    if problem:
        raise click.ClickException(f"--website: {problem}")
    translated = {}
    for entry in names:
        lang, sep, text = entry.partition("=")
        if not sep or lang.strip() not in vocab.LANGUAGES or not text.strip():
            raise click.ClickException(f"--name-in '{entry}': write LANG=NAME with LANG one of "
                                       f"{', '.join(vocab.LANGUAGES)}")
        translated[lang.strip()] = clean_text(text)
    db = _open_catalogue()
    catalogue.save_project(db, {"slug": slug, "name": name, "description": description, "website": url,
                                "names": translated, "start_date": start, "end_date": end})
    click.echo(f"project '{slug}' saved")


@project_group.command("add")
@with_appcontext
@click.argument("slug")
@click.argument("organisation")
@click.option("--relation", required=True, type=click.Choice(vocab.RELATIONS),
              help="The organisation's relation to this project.")
@click.option("--role", type=click.Choice(("coordinator", "partner")), help="A partner's role in the project.")
def project_add_command(slug: str, organisation: str, relation: str, role: str | None) -> None:
    """Add the organisation ORGANISATION (its slug) to the project SLUG with its relation."""
    from .catalogue import memberships

    db = _open_catalogue()
    project_id = _project(db, slug)
    org_id = _organisation(db, organisation)
    memberships.set_membership(db, project_id, org_id, relation, role)
    click.echo(f"'{organisation}' is in project '{slug}' as {relation}" + (f" ({role})" if role else ""))


@project_group.command("list")
@with_appcontext
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def project_list_command(as_json: bool) -> None:
    """List the projects with their dates, members and visits."""
    import json

    from .catalogue import memberships

    rows = memberships.project_list(_open_catalogue())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not rows:
        click.echo("no projects yet (mapapp project create SLUG --name NAME)")
    else:
        _table(rows, ("slug", "name", "start_date", "end_date", "members", "visits"))


@click.group("visit")
def visit_group() -> None:
    """Visits and seminars of a project: create them with their organisations, list them."""


@visit_group.command("create")
@with_appcontext
@click.argument("project")
@click.option("--title", required=True, help="The visit's title as shown to visitors.")
@click.option("--date", "starts", required=True, help="Its (first) day, YYYY-MM-DD.")
@click.option("--ends", help="Its last day, YYYY-MM-DD, when it lasts more than one.")
@click.option("--kind", type=click.Choice(("study-visit", "seminar", "online", "event")), default="study-visit",
              show_default=True, help="What kind of meeting it is.")
@click.option("--place", default="", help="Where, e.g. 'Poznań, PL' (located with the geocoder chain).")
@click.option("--host", "hosts", multiple=True, metavar="ORG_SLUG", help="A host organisation (repeatable).")
@click.option("--participant", "participants", multiple=True, metavar="ORG_SLUG",
              help="A participating organisation (repeatable).")
@click.option("--visited", "visited", multiple=True, metavar="ORG_SLUG", help="A visited organisation (repeatable).")
def visit_create_command(project: str, title: str, starts: str, ends: str | None, kind: str, place: str,
                         hosts: tuple[str, ...], participants: tuple[str, ...], visited: tuple[str, ...]) -> None:
    """Create a visit of PROJECT (its slug) with its host, visited and participating organisations."""
    from .catalogue import visits
    from .importing.normalise import clean_text
    from .mapdata import geocode

    db = _open_catalogue()
    _project(db, project)
    title, place = clean_text(title), clean_text(place)
    if not title:
        raise click.ClickException("--title: give the visit a title")
    start, end = _date(starts, "--date"), _date(ends, "--ends")
    if end and end < start:
        raise click.ClickException(f"--ends {end} is before --date {start}")
    roles = [(s, "host") for s in hosts] + [(s, "visited") for s in visited] + [(s, "participant") for s in participants]
    members = [(_organisation(db, s), role) for s, role in roles]
    city, _, country = place.strip().rpartition(",")
    country = country.strip().upper()
    if not (len(country) == 2 and country.isalpha()):
        city, country = place.strip(), ""
    visit = {"title": title, "kind": kind, "date": start, "end_date": end, "place": place}
    where = "no place given"
    if place.strip():
        outcome = _chain(db).locate(geocode.Address(city=city.strip(), country=country or None))
        if outcome.location:
            loc = outcome.location
            visit.update(lat=loc.lat, lon=loc.lon, geo_precision=loc.precision)
            where = f"placed at {loc.lat:.4f}, {loc.lon:.4f} ({loc.precision}, by {loc.source})"
        else:
            where = (f"'{place}' was not found by {', '.join(outcome.tried) or 'the geocoders'}; "
                     "it has no point on the map (write it as 'City, CC', e.g. 'Poznań, PL')")
    slug = visits.create_visit(db, project, visit, members, user_email="cli")
    click.echo(f"visit '{slug}' created in project '{project}': {where}; {len(members)} organisations")


@visit_group.command("list")
@with_appcontext
@click.argument("project")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def visit_list_command(project: str, as_json: bool) -> None:
    """List the visits of PROJECT (its slug), by date."""
    import json

    from .catalogue import memberships

    db = _open_catalogue()
    rows = memberships.visits_of(db, _project(db, project))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not rows:
        click.echo(f"project '{project}' has no visits yet (mapapp visit create {project} --title … --date …)")
    else:
        _table(rows, ("slug", "date", "end_date", "kind", "title", "place", "hosts", "visited", "participants"))


@click.command("export")
@with_appcontext
@click.option("--format", "fmt", required=True, metavar="FORMAT",
              help="geojson, csv, xlsx, gpkg (GeoPackage), html (standalone map), essglobal (ESSGLOBAL CSV), "
                   "jsonld or ttl (linked data: schema.org and ESSGLOBAL terms).")
@click.option("--filters", default="", help="Filters as in the site's URLs, e.g. 'country=IT&theme=AM40'.")
@click.option("--lang", default="en", type=click.Choice(vocab.LANGUAGES), help="Language of labels.")
@click.option("--base-url", default="http://127.0.0.1:5000",
              help="Public address of the site, for the links to organisation pages.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="File to write.")
def export_command(fmt: str, filters: str, lang: str, base_url: str, output: str) -> None:
    """Export the published organisations (optionally filtered) to a file."""
    from urllib.parse import parse_qs

    from . import catalogue, kinds
    from . import site as site_settings
    from .catalogue import fields as field_store
    from .catalogue import personaldata
    from .catalogue import site as site_store
    from .errors import BadRequest
    from .filters import Filters
    from .mapdata import exports

    if fmt not in exports.FORMATS:
        raise click.BadParameter(f"'{fmt}' is not one of {', '.join(exports.FORMATS)}", param_hint="--format")

    db = _open_catalogue()
    kinds.use_fields(lambda: field_store.filter_kinds(db))  # the catalogue's f-<slug> filters, as on the site
    try:
        parsed = Filters.from_args({k: ",".join(v) for k, v in parse_qs(filters).items()})
    except BadRequest as e:
        raise click.ClickException(f"--filters: {e.message}") from None
    orgs = catalogue.export_organisations(db, parsed)
    site = site_store.current(db, current_app.config)
    # Staff's attribution is plain text; the operator's is HTML.
    attribution = (site.tile_attribution if site.tile_attribution == current_app.config["TILE_ATTRIBUTION"]
                   else site_settings.attribution_html(site.tile_attribution))
    about = exports.About(site_name=site.name, day=catalogue.last_change(db)[1][:10],
                          licence=current_app.config["DATA_LICENCE"],
                          licence_url=current_app.config["DATA_LICENCE_URL"], filters=parsed,
                          site=site)
    try:
        data = exports.export(orgs, fmt, lang=lang, base_url=base_url.rstrip("/"),
                              tile_url=site.tile_url, attribution=attribution, about=about,
                              contacts=personaldata.export_contacts(db))
    except exports.ExportTooLarge as e:
        raise click.ClickException(f"nothing written: {e.message}") from None
    with open(output, "wb") as f:
        f.write(data)
    click.echo(f"{len(orgs)} organisations written to {output} ({fmt})")


_ASK = "\0ask"  # what a bare --password stands for: no typed password can be this


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--role", type=click.Choice(vocab.ROLES), default="editor", show_default=True,
              help="admin manages users and everything; editor imports, edits and publishes.")
@click.option("--password", is_flag=False, flag_value=_ASK, default=None,
              help="The password (at least 12 characters); --password alone prompts for it.")
def create_user_command(email: str, role: str, password: str | None) -> None:
    """Create a staff account; without --password a password is generated and printed once."""
    from . import accounts

    if password == _ASK:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user, generated = accounts.create_user(_open_catalogue(), email, password, role)
    except accounts.AccountError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"created {user.role} {user.email}")
    if generated:
        click.echo(f"password (shown only now): {generated}")


def _mail_settings():
    """The settings the web pages send mail with (links on MAPAPP_PUBLIC_URL); refused,
    saying what to set, when real mail would go out without it."""
    from .catalogue import site as site_store
    from .contributing import flow
    from .mail import NoPublicAddress, message_links

    db = _open_catalogue()
    try:
        name = site_store.current(db, current_app.config).name
    finally:
        db.close()
    try:
        return flow.settings_from(current_app.config, message_links(current_app), site_name=name)
    except NoPublicAddress as e:
        raise click.ClickException(str(e)) from None


def _queue():
    from .jobs.queue import EXTENSION

    return current_app.extensions[EXTENSION]


@click.command("remind-owners")
@click.option("--after-days", type=int, default=None, help="Entries not confirmed for this many days "
              "(default MAPAPP_REMIND_AFTER_DAYS).")
@click.option("--lang", type=click.Choice(vocab.LANGUAGES), default=vocab.DEFAULT_LANGUAGE,
              help="Language of the messages to organisations of a country whose language the site does not "
                   "speak (the others are written to in their country's: French for FR and BE, Italian for IT…).")
@click.option("--limit", type=int, default=1000, help="At most this many messages in one run.")
@click.option("--queue", "queued", is_flag=True, help="Queue the job for the worker (mapapp worker) instead of "
              "sending here; it is retried after an error.")
@with_appcontext
def remind_owners_command(after_days: int | None, lang: str, limit: int, queued: bool) -> None:
    """E-mail owners of stale entries a link to check or edit them (cron-friendly: an owner
    reminded is not reminded again before the same period has passed)."""
    from .contributing import owners

    config = current_app.config
    if queued:
        _mail_settings()  # refused here, saying what to set, rather than in the worker
        _queue().reminders(after_days=after_days or config["REMIND_AFTER_DAYS"], lang=lang, limit=limit)
        click.echo("reminders queued for the job worker")
        return
    db = _open_catalogue()
    sent = owners.remind(db, _mail_settings(), after_days=after_days or config["REMIND_AFTER_DAYS"],
                         link_days=config["OWNER_LINK_DAYS"], lang=lang, limit=limit)
    click.echo(f"{len(sent)} reminder(s) sent")


@click.command("send-digests")
@click.option("--frequency", type=click.Choice(("daily", "weekly")), required=True,
              help="Which subscriptions: run daily ones every day, weekly ones every week (cron).")
@click.option("--queue", "queued", is_flag=True, help="Queue the job for the worker (mapapp worker) instead of "
              "sending here; it is retried after an error.")
@with_appcontext
def send_digests_command(frequency: str, queued: bool) -> None:
    """E-mail each subscriber of FREQUENCY the organisations new on their part of the map."""
    from .contributing import subscriptions

    if queued:
        _mail_settings()  # refused here, saying what to set, rather than in the worker
        _queue().digests(frequency)
        click.echo(f"{frequency} digests queued for the job worker")
        return

    db = _open_catalogue()
    sent = subscriptions.send_digests(db, _mail_settings(), frequency)
    click.echo(f"{sent} digest(s) sent")


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Apply the retention limits now, saying what went: contributions and subscriptions never
    confirmed once their link expired (MAPAPP_CONFIRM_HOURS), the author's e-mail of
    contributions decided more than MAPAPP_RETENTION_DAYS ago, rate-limit rows of no more use.
    The job worker does the same every hour; without a worker, run it from cron."""
    from .contributing.purge import enforce_retention

    done = enforce_retention(_open_catalogue(), retention_days=int(current_app.config["RETENTION_DAYS"]))
    click.echo(done.summary())


@click.command("personal-data")
@click.argument("email")
@click.option("--erase", is_flag=True, help="Erase it: the author's address removed from contributions, "
              "subscriptions deleted (staff accounts stay: deactivate them on the users page).")
@click.option("--organisations", is_flag=True, help="With --erase, also empty the public e-mail of the "
              "organisations that publish the address (published on purpose: be sure).")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, writable=True),
              help="Write everything found as JSON to this file (before any erasure), for the person who asked.")
@with_appcontext
def personal_data_command(email: str, erase: bool, organisations: bool, json_file: str | None) -> None:
    """Show everything the catalogue holds about EMAIL (case and a +tag do not count), export it
    with --json, or erase it with --erase. Each export and erasure is in the audit log, by counts
    and a keyed hash, never the address."""
    from .contributing import personaldata

    db = _open_catalogue()
    secret = current_app.config["SECRET_KEY"]
    try:
        held = personaldata.find(db, email)
    except personaldata.PersonalDataError as e:
        raise click.BadParameter(str(e), param_hint="EMAIL") from None
    for kind, rows in held.found.items():
        click.echo(f"{kind.replace('_', ' ')}: {len(rows)}")
        for row in rows:
            click.echo("  " + ", ".join(f"{k}={v}" for k, v in row.items() if k != "proposal"))
    if json_file:
        target = Path(json_file)
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(personaldata.export(db, email, by="cli", secret=secret))
        partial.replace(target)
        click.echo(f"written to {json_file}")
    if erase:
        erased = personaldata.erase(db, email, by="cli", secret=secret, organisations=organisations)
        click.echo(f"erased: {erased.contributions} contribution(s), {erased.subscriptions} subscription(s), "
                   f"{erased.organisations} organisation e-mail(s), {erased.traces} other trace(s)")
        if held.found["organisations"] and not organisations:
            click.echo("organisations publishing it were left as they are: add --organisations to empty their e-mail")
        if erased.staff_accounts:
            click.echo("a staff account uses this address: deactivate the account on the users page")


@click.command("report")
@click.argument("project")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True,
              help="The PDF file to write (replaced if it exists).")
@click.option("--lang", type=click.Choice(vocab.LANGUAGES), default=vocab.DEFAULT_LANGUAGE, help="Language of the report.")
@click.option("--drafts", is_flag=True, help="Count draft organisations too (the public report has published ones only).")
@with_appcontext
def report_command(project: str, output: str, lang: str, drafts: bool) -> None:
    """Write the report of PROJECT (its slug) as a PDF: visits, members by country and on a
    map, their needs and offers, the partnerships among them."""
    from flask import render_template

    from . import brand, catalogue
    from .catalogue import site as site_store
    from .insights import report

    db = _open_catalogue()
    figures = report.project_figures(db, project, lang, statuses=("draft", "published") if drafts else ("published",))
    if figures is None:
        known = ", ".join(catalogue.project_slugs(db)) or "none yet (mapapp create-project)"
        raise click.ClickException(f"no project '{project}'; the projects are: {known}")
    with current_app.test_request_context(f"/?lang={lang}"):
        try:
            body = report.pdf(render_template(report.TEMPLATE, **report.template_values(
                figures, brand.document_names(site_store.current(db, current_app.config),
                                              site_store.read_file(db, brand.LOGO), lang))))
        except report.ReportError as e:
            raise click.ClickException(str(e)) from None
    target = Path(output)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(body)
    partial.replace(target)  # a reader never sees half a report
    click.echo(f"{figures.name}: {figures.found.total} organisations, {len(figures.visits)} visits -> {target}")


@click.group("murmurations")
def murmurations_group() -> None:
    """The map as a node of the Murmurations network."""


@murmurations_group.command("register")
@click.option("--index", "index_url", default=None, help="The index (default MAPAPP_MURMURATIONS_INDEX).")
@click.option("--limit", type=int, default=None, help="At most this many profiles (for a first try).")
@with_appcontext
def murmurations_register_command(index_url: str | None, limit: int | None) -> None:
    """Post the address of every organisation's profile, and of each of its needs and offers,
    to a Murmurations index, which fetches and validates them (MAPAPP_PUBLIC_URL must be the
    site's public address, so that the index can reach the profiles)."""
    from flask import url_for

    from . import fetch
    from .catalogue import changes
    from .mapdata import murmurations

    config = current_app.config
    if not config["PUBLIC_URL"]:
        raise click.ClickException("set MAPAPP_PUBLIC_URL to the site's public address (https://map.example.org): "
                                   "the index fetches the profiles from there")
    db = _open_catalogue()
    with current_app.test_request_context(base_url=config["PUBLIC_URL"]):
        urls = murmurations.profile_addresses(changes.published_needs_and_offers(db),
                                              lambda endpoint, values: url_for(endpoint, _external=True, **values))
    urls = urls[:limit] if limit is not None else urls
    try:
        outcome = murmurations.register(index_url or config["MURMURATIONS_INDEX"], urls,
                                        allow=fetch.allow_list(config["FETCH_ALLOW_HOSTS"]))
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    for url, why in outcome.refused.items():
        click.echo(f"refused: {url}: {why}", err=True)
    click.echo(f"{len(outcome.accepted)} profile(s) registered, {len(outcome.refused)} refused")
    if outcome.refused:
        raise SystemExit(1)


@click.group("sync")
def sync_group() -> None:
    """Keep in sync with other maps: remembered sources pulled on a schedule (cron)."""


@sync_group.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--format", "fmt", default="auto", show_default=True,
              type=click.Choice(("auto", "csv", "xlsx", "ods", "geojson", "essglobal", "murmurations", "gogocarto")),
              help="What the address serves (auto: told from its answer).")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False),
              help="A mapping file (YAML) for a file's columns, as for mapapp import.")
@click.option("--project", help="Slug of a project to add the source's organisations to.")
@click.option("--status", type=click.Choice(("draft", "published")), default="draft", show_default=True,
              help="Status of the organisations the source adds (those already here keep theirs).")
@with_appcontext
def sync_add_command(name: str, url: str, fmt: str, mapping: str | None, project: str | None, status: str) -> None:
    """Remember the source NAME at URL (or change it): its organisations get NAME as their source."""
    from . import catalogue
    from .catalogue import syncsources as sources
    from .importing import columns, sync

    try:
        sync.check_source(name, url, fmt, status, allow=sync.allowed(current_app.config))
        chosen = columns.load_mapping(mapping) if mapping else None
    except (sync.SyncError, columns.MappingError) as e:
        raise click.ClickException(str(e.args[0])) from None
    db = _open_catalogue()
    if project and not catalogue.project_exists(db, project):
        raise click.ClickException(f"no project '{project}'; create it with: mapapp create-project {project} --name NAME")
    with catalogue.write_transaction(db):
        sources.save_source(db, name=name, url=url, fmt=fmt, project=project, status=status,
                            mapping={"columns": chosen["columns"], "ignore": sorted(chosen["ignore"])} if chosen else None)
    click.echo(f"source '{name}' saved: mapapp sync run {name}")


@sync_group.command("run")
@click.argument("names", nargs=-1)
@with_appcontext
def sync_run_command(names: tuple[str, ...]) -> None:
    """Pull the sources NAMES (all when none is given) and apply them; exit status 1 when one
    could not be applied (what each did is printed, and kept for the staff area)."""
    from .catalogue import syncsources as sources
    from .importing import sync

    db = _open_catalogue()
    chosen = list(names) or [s["name"] for s in sources.sources(db)]
    if not chosen:
        raise click.ClickException("no source yet: add one with mapapp sync add NAME URL")
    failed = 0
    for name in chosen:
        outcome = sync.run(current_app.config["DATABASE"], name, current_app.config)
        click.echo(f"{name}: {outcome.message}" + (f" (import #{outcome.import_id})" if outcome.import_id else ""))
        for org in outcome.gone[:20]:
            click.echo(f"  no longer in the source: {org['name']} ({org['slug']})")
        failed += not outcome.ok
    if failed:
        raise SystemExit(1)


@sync_group.command("list")
@with_appcontext
def sync_list_command() -> None:
    """The sources, and what their last run did."""
    from .catalogue import syncsources as sources
    from .translate import from_data

    for s in sources.sources(_open_catalogue()):
        last = s["last_outcome"] or {}
        said = str(from_data(last.get("message", "")))
        click.echo(f"{s['name']}\t{s['format']}\t{s['url']}\t{s['last_run_at'] or 'never run'}\t{said}")


@sync_group.command("remove")
@click.argument("name")
@with_appcontext
def sync_remove_command(name: str) -> None:
    """Forget the source NAME (its organisations stay, with NAME as their source)."""
    from . import catalogue
    from .catalogue import syncsources as sources

    db = _open_catalogue()
    with catalogue.write_transaction(db):
        removed = sources.remove_source(db, name)
    if not removed:
        raise click.ClickException(f"no source '{name}'")
    click.echo(f"source '{name}' forgotten; its organisations stay")


@click.command("worker")
@click.option("--workers", type=int, default=None,
              help="Jobs run at once, each in a process of its own [default: MAPAPP_JOBS_WORKERS].")
@with_appcontext
def worker_command(workers: int | None) -> None:
    """Run the job worker: the imports and syncs started from the staff pages and the PDF reports
    (the queue is MAPAPP_JOBS_DATABASE). Ctrl-C (SIGINT) lets running jobs finish; SIGTERM stops now."""
    import logging

    from .jobs import queue, worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = current_app.config
    count = workers or int(config["JOBS_WORKERS"])
    if count < 1:
        raise click.ClickException("--workers: run at least 1 worker")
    _open_catalogue()  # a catalogue that cannot open is said now, not in each job
    daily = queue.daily_at(config)
    click.echo(f"job worker: {count} process(es) over {queue.jobs_database(config)}"
               + (f", mail every day at {daily[0]:02d}:{daily[1]:02d} UTC" if daily else "") + " (Ctrl-C to stop)")
    # Processes, not threads: an import switches the cycle collector off in its own process only,
    # and a job that crashes its process does not take the others with it.
    worker.Worker(_queue(), workers=count, worker_type="process").run()


COMMANDS = (create_user_command, export_command, init_command, load_demo_command, remove_demo_command, serve_command, stats_command, import_command,
            geocode_command, create_project_command, remind_owners_command, send_digests_command, purge_command,
            personal_data_command,
            report_command, worker_command,
            murmurations_group, sync_group, project_group, visit_group)

for _command in (*COMMANDS, shell_command, routes_command):
    main.add_command(_command)


def register(app: Flask) -> None:
    """Add the commands to ``app.cli`` (so that ``flask`` sees them too)."""
    for command in COMMANDS:
        app.cli.add_command(command)
