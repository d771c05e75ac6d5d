"""Write the fictional demo dataset to data/demo/ (run again to regenerate it).

Every organisation, address, website and e-mail here is invented. Cities and
their coordinates are real so that the map looks like a real project's; each
point is placed a short way inland from its city centre so it stays inside the
country. The output is deterministic.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mapapp import vocab  # noqa: E402
from mapapp.catalogue import slugify  # noqa: E402

# city: (country, lat, lon, postcodes, region, street names, (dlat range), (dlon range))
CITIES = {
    "Lyon": ("FR", 45.7640, 4.8357, ["69001", "69002", "69003", "69004", "69007"],
             "Auvergne-Rhône-Alpes", ["Rue des Canuts", "Quai Saint-Vincent", "Rue de la Charité",
                                      "Montée de la Grande-Côte", "Rue Burdeau"], (-0.01, 0.01), (-0.01, 0.01)),
    "Toulon": ("FR", 43.1242, 5.9280, ["83000", "83100", "83200"], "Provence-Alpes-Côte d'Azur",
               ["Rue d'Alger", "Cours Lafayette", "Rue Paul Lendrin"], (0.004, 0.012), (-0.01, 0.01)),
    "Fréjus": ("FR", 43.4331, 6.7370, ["83600"], "Provence-Alpes-Côte d'Azur",
               ["Rue Jean Jaurès", "Place Paul Albert Février", "Rue de Fleury"], (0.003, 0.01), (-0.012, -0.002)),
    "Marseille": ("FR", 43.2965, 5.3698, ["13001", "13002", "13003"], "Provence-Alpes-Côte d'Azur",
                  ["Rue d'Aubagne", "Cours Julien", "Boulevard National"], (0.002, 0.01), (0.004, 0.012)),
    "Aix-en-Provence": ("FR", 43.5297, 5.4474, ["13100"], "Provence-Alpes-Côte d'Azur",
                        ["Rue Cardinale", "Rue d'Italie", "Avenue Victor Hugo"], (-0.006, 0.006), (-0.006, 0.006)),
    "Brussels": ("BE", 50.8503, 4.3517, ["1000", "1030", "1050", "1060", "1080"], "Brussels-Capital",
                 ["Rue Haute", "Chaussée de Gand", "Rue du Marché aux Porcs", "Avenue de la Couronne"],
                 (-0.012, 0.012), (-0.012, 0.012)),
    "Liège": ("BE", 50.6326, 5.5797, ["4000", "4020"], "Wallonia",
              ["Rue Hors-Château", "Quai de la Batte", "Rue Saint-Léonard"], (-0.008, 0.008), (-0.008, 0.008)),
    "Ghent": ("BE", 51.0543, 3.7174, ["9000"], "Flanders",
              ["Sleepstraat", "Oudburg", "Dampoortstraat"], (-0.008, 0.008), (-0.008, 0.008)),
    "Milan": ("IT", 45.4642, 9.1900, ["20121", "20137", "20154", "20159"], "Lombardia",
              ["Via Padova", "Via Paolo Sarpi", "Viale Monza", "Via Tortona"], (-0.012, 0.012), (-0.012, 0.012)),
    "Bologna": ("IT", 44.4949, 11.3426, ["40121", "40125", "40133"], "Emilia-Romagna",
                ["Via del Pratello", "Via Mascarella", "Via San Vitale"], (-0.008, 0.008), (-0.008, 0.008)),
    "Turin": ("IT", 45.0703, 7.6869, ["10121", "10152"], "Piemonte",
              ["Via Nizza", "Corso Regina Margherita", "Via Borgo Dora"], (-0.008, 0.008), (-0.008, 0.008)),
    "Poznań": ("PL", 52.4064, 16.9252, ["61-001", "61-806", "60-101", "61-758"], "Wielkopolskie",
               ["ul. Święty Marcin", "ul. Półwiejska", "ul. Garbary", "ul. Śródka"], (-0.012, 0.012), (-0.012, 0.012)),
    "Warsaw": ("PL", 52.2297, 21.0122, ["00-001", "03-402"], "Mazowieckie",
               ["ul. Ząbkowska", "ul. Hoża", "ul. Targowa"], (-0.01, 0.01), (-0.01, 0.01)),
    "Kraków": ("PL", 50.0647, 19.9450, ["31-001", "31-062"], "Małopolskie",
               ["ul. Józefa", "ul. Starowiślna", "ul. Lipowa"], (-0.008, 0.008), (-0.008, 0.008)),
    "Nicosia": ("CY", 35.1856, 33.3823, ["1010", "1016"], "Nicosia",
                ["Ledra Street", "Onasagorou Street", "Faneromenis Street"], (-0.008, 0.008), (-0.008, 0.008)),
    "Limassol": ("CY", 34.6786, 33.0413, ["3010", "3036"], "Limassol",
                 ["Agiou Andreou Street", "Anexartisias Street", "Gladstonos Street"], (0.006, 0.016), (-0.008, 0.008)),
    "Larnaca": ("CY", 34.9229, 33.6233, ["6020", "6021"], "Larnaca",
                ["Ermou Street", "Zinonos Kitieos Street", "Stadiou Street"], (0.004, 0.012), (-0.014, -0.006)),
}

ORGANISATIONS = {
    "Lyon": ["Les Canuts Numériques", "Coopérative La Ficelle", "Atelier Vélo de la Croix-Rousse",
             "Épicerie Solidaire des Pentes", "Réseau Lyon Entreprendre Solidaire", "La Fabrique des Communs",
             "Tiers-Lieu Le Métier à Tisser", "Mutuelle des Traboules"],
    "Toulon": ["Chantier Naval Partagé", "Les Paniers du Mourillon", "Coopérative d'Artisans du Var",
               "Recyclerie du Port", "Maison de l'Économie Sociale Varoise"],
    "Fréjus": ["Poterie Collective de l'Estérel", "Les Tisserandes de Fréjus", "Bois et Savoir-Faire",
               "Association Mer et Métiers", "Marché Paysan de l'Argens"],
    "Marseille": ["Les Ateliers du Panier", "Coop'Énergie Phocéenne", "Cuisine Commune de Noailles"],
    "Aix-en-Provence": ["Librairie Coopérative Mirabeau", "Savonnerie Solidaire d'Aix", "Incubateur Sainte-Victoire"],
    "Brussels": ["Coopérative Marolles Repair", "Brussels Food Commons", "Habitat Groupé Senne",
                 "Atelier Typographique Solidaire", "Fonds Citoyen Bruxellois", "Kokerij Anneessens",
                 "Réseau des Épiceries Sociales", "Mobilité Douce Asbl"],
    "Liège": ["Brasserie Coopérative de la Batte", "Outremeuse Insertion", "Énergie Citoyenne Meuse"],
    "Ghent": ["Deelatelier Oudburg", "Stadsboerderij Dampoort", "Coöperatie Leiewerk"],
    "Milan": ["Cooperativa Sarpi Solidale", "Officina Riuso Padova", "Mercato Equo di Isola",
              "Cooperativa Sociale Navigli", "Fondazione Quartieri Aperti", "Ciclofficina Tortona",
              "Spazio Comune Lambrate"],
    "Bologna": ["Cooperativa del Pratello", "Forno Sociale Mascarella", "Rete Bologna Mutualistica",
                "Orti Condivisi San Vitale", "Cooperativa Tipografica Felsinea", "Scuola Popolare di Quartiere"],
    "Turin": ["Cooperativa Borgo Dora", "Sartoria Sociale San Salvario", "Energia di Comunità Aurora"],
    "Poznań": ["Spółdzielnia Socjalna Śródka", "Warsztat Rowerowy Jeżyce", "Fundacja Ekonomii Społecznej Warta",
               "Kuchnia Społeczna Garbary", "Spółdzielnia Pracy Rzemieślnicza", "Centrum Wolontariatu Wielkopolska",
               "Kooperatywa Spożywcza Łazarz", "Pracownia Ceramiki Społecznej"],
    "Warsaw": ["Spółdzielnia Mieszkaniowa Praga Wspólna", "Fundusz Pożyczkowy Ząbkowska", "Kawiarnia Integracyjna Hoża"],
    "Kraków": ["Spółdzielnia Socjalna Kazimierz", "Pracownia Naprawcza Podgórze", "Stowarzyszenie Zielony Kraków"],
    "Nicosia": ["Nicosia Makers Cooperative", "Ledra Community Kitchen", "Old Town Crafts Collective",
                "Cyprus Social Enterprise Hub", "Green Neighbourhoods Nicosia"],
    "Limassol": ["Limassol Repair Café", "Seafront Fishers' Cooperative", "Carob Mill Social Bakery",
                 "Limassol Solidarity Network"],
    "Larnaca": ["Larnaca Lace Makers", "Salt Lake Eco Tours", "Finikoudes Youth Cooperative"],
}

PHONE = {"FR": "+33 4 00 00 {:02d} {:02d}", "BE": "+32 2 000 {:02d} {:02d}", "IT": "+39 02 0000 {:02d}{:02d}",
         "PL": "+48 61 000 {:02d} {:02d}", "CY": "+357 22 00{:02d}{:02d}"}
LEGAL_FORMS = {"FR": ["SCOP SARL", "SCIC SAS", "Association loi 1901", "SAS ESUS"],
               "BE": ["SC agréée ES", "ASBL", "SRL à finalité sociale", "VZW"],
               "IT": ["Cooperativa sociale di tipo A", "Cooperativa sociale di tipo B", "Associazione di promozione sociale", "Impresa sociale srl"],
               "PL": ["Spółdzielnia socjalna", "Fundacja", "Stowarzyszenie", "Spółdzielnia pracy"],
               "CY": ["Cooperative society", "Non-profit company", "Association", "Social enterprise (registered)"]}
STRUCTURES = ["OS60", "OS100", "OS20", "OS30", "OS115", "OS10", "OS170", "OS90", "OS70", "OS80"]
LOCAL = {"FR": "fr", "BE": "fr", "IT": "it", "PL": "pl", "CY": "el"}

TEMPLATES = {
    "en": "{name} is a fictional {structure} in {city} working in {themes}. It offers {offers} and is looking for {needs}.",
    "fr": "{name} est une organisation fictive ({structure}) de {city}, active dans les domaines suivants : {themes}. Elle propose {offers} et recherche {needs}.",
    "it": "{name} è un'organizzazione fittizia ({structure}) di {city} attiva in: {themes}. Offre {offers} e cerca {needs}.",
    "pl": "{name} to fikcyjna organizacja ({structure}) z miasta {city}, działająca w obszarach: {themes}. Oferuje: {offers}; poszukuje: {needs}.",
    "el": "Ο οργανισμός {name} είναι φανταστικός ({structure}) με έδρα {city} και δραστηριοποιείται σε: {themes}. Προσφέρει: {offers}· αναζητά: {needs}.",
    "nl": "{name} is een fictieve organisatie ({structure}) in {city}, actief in: {themes}. Biedt {offers} aan en zoekt {needs}.",
}
DETAILS = {
    "funding": "a small loan to buy stock", "premises": "a workshop of about 50 m²",
    "equipment": "shared tools, lent by the week", "volunteers": "two volunteers on Saturdays",
    "digital-skills": "help with a website and social media", "management-skills": "cooperative governance coaching",
    "legal-skills": "help with statutes and contracts", "marketing-skills": "selling at markets and online",
    "training": "apprenticeships for young people", "market-access": "shops to stock our products",
    "partnerships": "partners for a European project", "visibility": "press contacts and events",
    "logistics": "a shared delivery van", "research": "a university partner for impact studies",
    "pooled-purchasing": "joint buying of raw materials",
}


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def build() -> tuple[list[dict], dict]:
    rng = random.Random(2026)
    theme_codes = vocab.themes().codes()
    resource_codes = vocab.resources().codes()
    relations = ["visited", "visited", "participant", "participant", "partner", "other"]
    orgs = []
    n = 0
    for city, names in ORGANISATIONS.items():
        country, lat, lon, postcodes, region, streets, dlat, dlon = CITIES[city]
        for name in names:
            # Cycling through the vocabularies guarantees every code is used.
            themes = sorted({theme_codes[n % 16], rng.choice(theme_codes)})
            needs = sorted({resource_codes[n % 15], rng.choice(resource_codes)})
            offers = sorted({resource_codes[(n + 7) % 15], rng.choice(resource_codes)} - set(needs))
            structure = STRUCTURES[n % len(STRUCTURES)]
            relation = relations[n % len(relations)]
            status = "published"
            if n in (11, 37, 58):
                status = "draft"
            elif n == 66:
                status = "archived"
            slug = slugify(name)
            org = {
                "ref": f"demo-{n + 1:03d}",
                "name": name,
                "relation": relation,
                "structure": structure,
                "legal_form": LEGAL_FORMS[country][n % 4],
                "street": f"{rng.randint(1, 120)} {streets[n % len(streets)]}",
                "postcode": postcodes[n % len(postcodes)],
                "city": city,
                "region": region,
                "country": country,
                "lat": round(lat + rng.uniform(*dlat), 5),
                "lon": round(lon + rng.uniform(*dlon), 5),
                "website": f"https://{slug}.example.org/",
                "email": f"contact@{slug}.example.org",
                "phone": PHONE[country].format(n % 100, (n * 7) % 100) if n % 3 else "",
                "status": status,
                "themes": themes,
                "needs": {code: (DETAILS[code] if (n + i) % 2 == 0 else "") for i, code in enumerate(needs)},
                "offers": {code: "" for code in offers},
            }
            descriptions = {}
            for lang in ("en", LOCAL[country]) + (("nl",) if city == "Ghent" else ()):
                label = lambda v, code: v.label(code, lang)  # noqa: E731
                descriptions[lang] = TEMPLATES[lang].format(
                    name=name, city=city,
                    structure=lower_first(label(vocab.structures(), structure)),
                    themes="; ".join(label(vocab.themes(), t) for t in themes),
                    offers="; ".join(lower_first(label(vocab.resources(), r)) for r in offers) or "-",
                    needs="; ".join(lower_first(label(vocab.resources(), r)) for r in needs),
                )
            org["description"] = descriptions.pop("en")
            org["descriptions"] = descriptions
            orgs.append(org)
            n += 1
    return orgs, projects(orgs)


def projects(orgs: list[dict]) -> dict:
    by_city: dict[str, list[str]] = {}
    for org in orgs:
        by_city.setdefault(org["city"], []).append(org["ref"])
    visits = [
        ("demo-study-visits", "lyon-seminar-2025", "Seminar and visits in Lyon", "Lyon", "FR", "2025-03-18"),
        ("demo-study-visits", "poznan-seminar-2025", "Seminar in Poznań", "Poznań", "PL", "2025-05-14"),
        ("demo-study-visits", "brussels-visits-2025", "Study visits in Brussels", "Brussels", "BE", "2025-09-23"),
        ("demo-study-visits", "bologna-visits-2025", "Study visits in Bologna", "Bologna", "IT", "2025-11-05"),
        ("demo-study-visits", "nicosia-seminar-2026", "Closing seminar in Nicosia", "Nicosia", "CY", "2026-02-10"),
        ("demo-provence-crafts", "toulon-workshop-2025", "Makers' workshop in Toulon", "Toulon", "FR", "2025-04-08"),
        ("demo-provence-crafts", "frejus-market-2025", "Collective market in Fréjus", "Fréjus", "FR", "2025-06-21"),
    ]
    membership: dict[str, dict[str, list[str]]] = {}
    for project, slug, _title, city, _country, _date in visits:
        for ref in by_city[city][:4]:
            entry = membership.setdefault(ref, {"projects": [], "visits": []})
            if project not in entry["projects"]:
                entry["projects"].append(project)
            entry["visits"].append(slug)
    # Partners of the study visits who also take part in the crafts project.
    for ref in by_city["Marseille"] + by_city["Aix-en-Provence"] + by_city["Lyon"][:2]:
        entry = membership.setdefault(ref, {"projects": [], "visits": []})
        for project in ("demo-provence-crafts", "demo-study-visits"):
            if project not in entry["projects"]:
                entry["projects"].append(project)
    for ref in by_city["Milan"][:3] + by_city["Warsaw"][:2] + by_city["Limassol"][:2]:
        entry = membership.setdefault(ref, {"projects": [], "visits": []})
        if "demo-study-visits" not in entry["projects"]:
            entry["projects"].append("demo-study-visits")
    return {
        "projects": [
            {"slug": "demo-study-visits", "name": "Demo: ESS study visits across Europe",
             "description": "A fictional collaborative project: seminars and study visits to social "
                            "enterprises in Lyon, Poznań, Brussels, Bologna and Nicosia.",
             "website": "https://study-visits.example.org/", "start_date": "2025-01-01",
             "end_date": "2026-06-30", "names": PROJECT_NAMES["demo-study-visits"]},
            {"slug": "demo-provence-crafts", "name": "Demo: collective operations for Provence craftspeople",
             "description": "A fictional project of shared workshops and markets for craftspeople in the Var "
                            "and Bouches-du-Rhône.",
             "website": "https://provence-crafts.example.org/", "start_date": "2025-02-01",
             "end_date": "2025-12-31", "names": PROJECT_NAMES["demo-provence-crafts"]},
        ],
        "visits": [
            {"project": p, "slug": s, "title": t, "city": c, "country": k, "date": d, "titles": VISIT_TITLES[s]}
            for p, s, t, c, k, d in visits
        ],
        "membership": membership,
    }


# Names and titles in the other languages, as staff give them (like descriptions).
PROJECT_NAMES = {
    "demo-study-visits": {"fr": "Démo : visites d'étude de l'ESS en Europe", "it": "Demo: visite di studio dell'ESS in Europa",
                          "pl": "Demo: wizyty studyjne ES w Europie", "el": "Επίδειξη: επισκέψεις μελέτης ΚΑΛΟ στην Ευρώπη",
                          "nl": "Demo: studiebezoeken sociale economie in Europa"},
    "demo-provence-crafts": {"fr": "Démo : opérations collectives pour les artisans de Provence",
                             "it": "Demo: operazioni collettive per gli artigiani della Provenza",
                             "pl": "Demo: wspólne działania rzemieślników z Prowansji",
                             "el": "Επίδειξη: συλλογικές δράσεις για τους τεχνίτες της Προβηγκίας",
                             "nl": "Demo: gezamenlijke acties voor ambachtslieden in de Provence"},
}
VISIT_TITLES = {
    "lyon-seminar-2025": {"fr": "Séminaire et visites à Lyon", "it": "Seminario e visite a Lione",
                          "pl": "Seminarium i wizyty w Lyonie", "el": "Σεμινάριο και επισκέψεις στη Λυών",
                          "nl": "Seminar en bezoeken in Lyon"},
    "poznan-seminar-2025": {"fr": "Séminaire à Poznań", "it": "Seminario a Poznań", "pl": "Seminarium w Poznaniu",
                            "el": "Σεμινάριο στο Πόζναν", "nl": "Seminar in Poznań"},
    "brussels-visits-2025": {"fr": "Visites d'étude à Bruxelles", "it": "Visite di studio a Bruxelles",
                             "pl": "Wizyty studyjne w Brukseli", "el": "Επισκέψεις μελέτης στις Βρυξέλλες",
                             "nl": "Studiebezoeken in Brussel"},
    "bologna-visits-2025": {"fr": "Visites d'étude à Bologne", "it": "Visite di studio a Bologna",
                            "pl": "Wizyty studyjne w Bolonii", "el": "Επισκέψεις μελέτης στη Μπολόνια",
                            "nl": "Studiebezoeken in Bologna"},
    "nicosia-seminar-2026": {"fr": "Séminaire de clôture à Nicosie", "it": "Seminario conclusivo a Nicosia",
                             "pl": "Seminarium końcowe w Nikozji", "el": "Καταληκτικό σεμινάριο στη Λευκωσία",
                             "nl": "Slotseminar in Nicosia"},
    "toulon-workshop-2025": {"fr": "Atelier des makers à Toulon", "it": "Laboratorio dei maker a Tolone",
                             "pl": "Warsztaty twórców w Tulonie", "el": "Εργαστήριο δημιουργών στην Τουλόν",
                             "nl": "Makersworkshop in Toulon"},
    "frejus-market-2025": {"fr": "Marché collectif à Fréjus", "it": "Mercato collettivo a Fréjus",
                           "pl": "Wspólny targ we Fréjus", "el": "Συλλογική αγορά στο Φρεζύς",
                           "nl": "Gezamenlijke markt in Fréjus"},
}


def main() -> None:
    orgs, project_data = build()
    out = ROOT / "data" / "demo"
    out.mkdir(parents=True, exist_ok=True)
    note = ("FICTIONAL demo data for mapapp: every organisation, address, website, e-mail and "
            "phone number is invented. Regenerate with scripts/make_demo_data.py.")
    (out / "organisations.json").write_text(
        json.dumps({"note": note, "organisations": orgs}, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8")
    (out / "projects.json").write_text(
        json.dumps({"note": note, **project_data}, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8")
    print(f"wrote {len(orgs)} organisations, {len(project_data['projects'])} projects, "
          f"{len(project_data['visits'])} visits to {out}")


if __name__ == "__main__":
    main()
