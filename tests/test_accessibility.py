"""axe-core as the browser tests use it: ``serious_violations(page)`` lists the serious and
critical WCAG 2 A/AA findings of the page shown. test_browser_axe.py runs it on every page of the
app; the phone and popup tests on the states they open."""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the current page, one line each, with the
    elements concerned and what axe says to fix. (The page's context needs ``bypass_csp=True``
    for axe's script.)"""
    page.add_script_tag(path=str(AXE))
    # Only what is reported comes back from the page: axe's whole result (every rule, every
    # node's HTML) took longer to copy than axe took to run.
    violations = page.evaluate("""() => axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa"]},
                                                        resultTypes: ["violations"]})
      .then(result => result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
        .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(
          n => ({target: n.target, ...("failureSummary" in n ? {failureSummary: n.failureSummary} : {})}))})))""")
    return [f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(f"{n['target']} {n.get('failureSummary', '')}" for n in v["nodes"])
            for v in violations]
