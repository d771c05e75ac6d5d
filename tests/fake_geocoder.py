"""A fake geocoding server on 127.0.0.1 answering like Nominatim, Photon and the BAN,
so that geopy's real client classes can be tested without the network."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from support import ServerThread


class FakeGeocoder:
    """Answers from ``places`` (query text → (lat, lon, kind)); records every request.

    ``script`` is a list of behaviours used one per request before normal answers:
    "429" (rate limited), "500", or "slow" (answers after ``delay`` seconds).
    """

    def __init__(self, places: dict[str, tuple[float, float, str]]):
        self.places = places
        self.requests: list[tuple[float, str, dict, dict]] = []
        self.script: list[str] = []
        self.delay = 2.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                fake.requests.append((time.monotonic(), parts.path, query, dict(self.headers)))
                behaviour = fake.script.pop(0) if fake.script else None
                if behaviour == "429":
                    return self._send(429, {"error": "slow down"}, {"Retry-After": "0"})
                if behaviour == "500":
                    return self._send(500, {"error": "boom"})
                if behaviour == "slow":
                    time.sleep(fake.delay)
                text = query.get("q", "")
                hit = next((v for k, v in fake.places.items() if k.lower() in text.lower()), None)
                if parts.path.startswith("/search") and "format" in query:
                    body = [] if hit is None else [{
                        "lat": str(hit[0]), "lon": str(hit[1]), "display_name": text,
                        "addresstype": hit[2], "class": "place", "type": hit[2]}]
                    return self._send(200, body)
                # Photon and the BAN name the kinds of place their own way.
                kind = hit and {"house": "housenumber" if parts.path == "/search" else "house",
                                "road": "street", "city": "city"}[hit[2]]
                features = [] if hit is None else [{
                    "type": "Feature", "geometry": {"type": "Point", "coordinates": [hit[1], hit[0]]},
                    "properties": {"label": text, "name": text, "type": kind, "score": 0.9}}]
                return self._send(200, {"type": "FeatureCollection", "features": features})

            def _send(self, status, body, headers=None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting: that is what timeout tests do

        self._serving = ServerThread(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
        self.url = self._serving.url

    def __enter__(self):
        self._serving.__enter__()
        return self

    def __exit__(self, *exc):
        self._serving.__exit__(*exc)
