"""The SQLite catalogue: the connection and every query, as named functions.

Nothing outside this package writes SQL for organisations. Writes that touch
several tables run in a transaction, so a failure leaves the catalogue as it was.
The modules split it by concern; organisations' queries are used as ``catalogue.<name>``,
the staff tables' through their modules (``catalogue.users``, ``catalogue.audit``,
``catalogue.imports``).
"""

from ..filters import Filters
from ..records import FICTIONAL_SOURCE
from ..text import slugify
from .base import (FIELDS, CatalogueError, Saved, State, connect, file_identity, now, related_of, state, state_key,
                   write_transaction, writers_waiting)
from .exportrows import iter_export_batches
from .geocache import best_cached_geocode, cached_geocode, has_cached_geocodes, organisations_to_locate, store_geocode
from .mapdata import (category_members, category_ranks, changed_since, iter_map_rows, map_memberships, member_lists, map_name_following, map_name_order, map_points, map_rows, organisations_by_ids,
                      search_ids)
from .reads import (count_organisations, duplicate_candidates, export_organisations, find_organisations, fts_query,
                    get_organisation, has_fictional, last_change, likely_duplicates, matches, matching_ids, names_and_websites,
                    organisation_count, project_and_visit_names, project_exists, project_id, project_slugs,
                    source_has_refs, sources, stats, status_counts, version)
from .spatial import index_new_points
from .staff import (STATUS_CHANGES_FROM, change_statuses, country_codes_in_use, organisation_by_id, organisation_state,
                    restore_state, restore_statuses, set_status, statuses_of)
from . import slugs
from .writes import (Stored, add_to_project, all_slugs, bulk_insert, delete_organisation, insert_organisation,
                     is_large_load, link_organisation, new_row_text, rebuild_indexes, save_organisation, save_project, save_visit, set_indexes_aside, set_location, stored_by_id, stored_by_source,
                     update_organisation)

__all__ = [name for name in dir() if not name.startswith("_")]
