"""axe-core accessibility checks on a Playwright page (axe's JavaScript comes with the
axe-playwright-python package, installed with the dev dependencies: nothing is downloaded)."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

# WCAG 2.0 A and AA, 2.1 AA and 2.2 AA: what the knowledge base promises.
RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}

_axe = Axe()


def violations(page, impacts=BLOCKING) -> list[str]:
    """The page's axe violations of those impacts, one readable line each (empty when clean)."""
    options = {"runOnly": {"type": "tag", "values": RULE_TAGS}, "resultTypes": ["violations"]}
    found = _axe.run(page, options=options).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:4]}"
        for v in found
        if v["impact"] in impacts
    ]
