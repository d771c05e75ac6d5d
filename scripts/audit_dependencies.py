"""Audit the installed Python packages for known vulnerabilities (pip-audit).

Fails when a vulnerability is known for an installed version. Tolerates an advisory
service that cannot be reached (no network, a registry mirror without the JSON API):
it then says how many packages could not be checked and exits 0.

    python scripts/audit_dependencies.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        run = subprocess.run([sys.executable, "-m", "pip_audit", "--local", "--skip-editable", "--progress-spinner",
                              "off", "-f", "json", "-o", str(report)], capture_output=True, text=True, timeout=600)
        try:
            dependencies = json.loads(report.read_text())["dependencies"]
        except (OSError, ValueError, KeyError):
            print(f"dependency audit: pip-audit could not run (exit {run.returncode}); not checked:\n"
                  f"{run.stderr.strip()[-2000:]}")
            return 0
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            print(f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    print(f"dependency audit: {len(dependencies) - len(skipped)} packages checked, {len(vulnerable)} vulnerable, "
          f"{len(skipped)} not checked (advisory service unreachable or package unknown to it)")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
