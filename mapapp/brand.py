"""The site's logo and its EU funding acknowledgement, as pages, the embed, e-mails, PDF reports
and standalone exports show them: one place says where the logo is found for each of them and
what the funding block says in each language.

The logo is stored cleaned (``images.clean``) by ``catalogue.site.write_file`` under the name
``LOGO``; its address carries its digest (``/site/logo-<sha256[:16]>.<ext>``), so that it can be
cached for ever and a new logo is a new address. This module reads nothing: callers pass what
``catalogue.site`` gave them.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from .config import ROOT
from .images import extension
from .site import FUNDED_BY_EU, Site
from .vocab import DEFAULT_LANGUAGE

LOGO = "logo"  # its name among the site's files
LOGO_ENDPOINT = "brand.logo"
EMBLEM = ROOT / "static" / "eu" / "eu-emblem.svg"

# The EU's standard disclaimer for Erasmus+ projects, in its official wording per language;
# staff may replace it (the setting ``funding_disclaimer``) with their own programme's.
DEFAULT_DISCLAIMER = {
    "en": "Funded by the European Union. Views and opinions expressed are however those of the author(s) only "
          "and do not necessarily reflect those of the European Union or the European Education and Culture "
          "Executive Agency (EACEA). Neither the European Union nor the granting authority can be held "
          "responsible for them.",
    "fr": "Financé par l'Union européenne. Les points de vue et avis exprimés n'engagent toutefois que leur(s) "
          "auteur(s) et ne reflètent pas nécessairement ceux de l'Union européenne ou de l'Agence exécutive "
          "européenne pour l'éducation et la culture (EACEA). Ni l'Union européenne ni l'autorité chargée de "
          "l'octroi ne peuvent en être tenues pour responsables.",
    "it": "Finanziato dall'Unione europea. Le opinioni espresse appartengono, tuttavia, al solo o ai soli autori e "
          "non riflettono necessariamente le opinioni dell'Unione europea o dell'Agenzia esecutiva europea per "
          "l'istruzione e la cultura (EACEA). Né l'Unione europea né l'autorità che concede il finanziamento "
          "possono esserne ritenute responsabili.",
    "pl": "Sfinansowane ze środków UE. Wyrażone poglądy i opinie są jedynie opiniami autora lub autorów i nie "
          "muszą odzwierciedlać poglądów Unii Europejskiej lub Europejskiej Agencji Wykonawczej ds. Edukacji i "
          "Kultury (EACEA). Ani Unia Europejska, ani organ przyznający pomoc nie mogą za nie odpowiadać.",
    "el": "Χρηματοδοτείται από την Ευρωπαϊκή Ένωση. Οι απόψεις και οι γνώμες που διατυπώνονται εκφράζουν "
          "αποκλειστικά τις απόψεις των συντακτών και δεν αντιπροσωπεύουν κατ' ανάγκη τις απόψεις της Ευρωπαϊκής "
          "Ένωσης ή του Ευρωπαϊκού Εκτελεστικού Οργανισμού Εκπαίδευσης και Πολιτισμού (EACEA). Η Ευρωπαϊκή Ένωση "
          "και η χορηγούσα αρχή δεν μπορούν να θεωρηθούν υπεύθυνες για τις εκφραζόμενες απόψεις.",
    "nl": "Gefinancierd door de Europese Unie. De hier geuite standpunten en meningen zijn echter alleen die van "
          "de auteur(s) en komen niet noodzakelijk overeen met die van de Europese Unie of het Europees Uitvoerend "
          "Agentschap onderwijs en cultuur (EACEA). Noch de Europese Unie, noch de subsidieverlenende instantie "
          "kan daarvoor verantwoordelijk worden gehouden.",
}
MAX_DISCLAIMER = 1000  # characters, per language


@dataclass(frozen=True)
class Funding:
    """What the funding block shows: the EU's statement beside its emblem, and the disclaimer."""

    statement: str
    disclaimer: str
    lang: str  # the statement's language (the disclaimer may fall back to another one)
    disclaimer_lang: str | None  # the disclaimer's language when it is not ``lang``


def funding(site: Site, lang: str) -> Funding | None:
    """The funding block in ``lang``, or None when staff have not switched it on."""
    if not site.funding_enabled:
        return None
    texts = {code: site.funding_disclaimer.get(code) or DEFAULT_DISCLAIMER[code] for code in DEFAULT_DISCLAIMER}
    disclaimer, other = site.text(texts, lang)
    return Funding(statement=FUNDED_BY_EU.get(lang, FUNDED_BY_EU[DEFAULT_LANGUAGE]), disclaimer=disclaimer,
                   lang=lang, disclaimer_lang=other)


@cache
def emblem_data_uri() -> str:
    """The EU emblem as a ``data:`` URI, for documents that carry their pictures (PDF, export)."""
    return "data:image/svg+xml;base64," + base64.b64encode(EMBLEM.read_bytes()).decode("ascii")


def logo_filename(digest: str, media_type: str) -> str:
    """The versioned file name of the logo: ``logo-<sha256[:16]>.<ext>``."""
    return f"logo-{digest[:16]}.{extension(media_type)}"


def logo_address(info: dict | None, link: Callable[[str, dict], str]) -> str:
    """The logo's absolute address made by ``link`` (``mail.message_links``: the configured
    public address, never a request's) from its ``info`` (``catalogue.site.read_file_info``),
    or "" without a logo."""
    return link(LOGO_ENDPOINT, {"filename": logo_filename(info["sha256"], info["media_type"])}) if info else ""


def data_uri(file: dict | None) -> str:
    """A stored file (``catalogue.site.read_file``) inline as a ``data:`` URI, or "" without one."""
    if file is None:
        return ""
    return f"data:{file['media_type']};base64," + base64.b64encode(file["data"]).decode("ascii")


def document_names(site: Site, logo: dict | None, lang: str) -> dict:
    """What ``_logo.html`` and ``_funding.html`` need in a document that carries its pictures
    (the PDF report): the ``logo`` file (``catalogue.site.read_file``) and the emblem as
    ``data:`` URIs, the funding block in the document's ``lang``."""
    return {"site": site, "logo_src": data_uri(logo), "funding": funding(site, lang), "eu_emblem_src": emblem_data_uri()}
