"""Accessibility audits with axe-core, run inside a Playwright page.

axe-core is vendored under tests/support/vendor/ (see VERSIONS there): a pinned file needs no
network at test time and gives the same rules on every machine. It is injected as a script tag by
Playwright; the site's Content-Security-Policy forbids inline scripts, so the audit's browser
contexts are made with `bypass_csp=True` (`audit_context`), which changes nothing else the page does.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page

AXE_FILE = Path(__file__).with_name("vendor") / "axe-4.14.1.min.js"
# WCAG 2.0, 2.1 and 2.2, levels A and AA (2.2 adds target size), plus axe's best practices
# (landmarks, heading order, ...).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


@cache
def axe_source() -> str:
    return AXE_FILE.read_text(encoding="utf-8")


def audit_context(browser: Browser, width: int, height: int, **options: Any) -> BrowserContext:
    """A browser context axe can be injected into despite the page's CSP."""
    ctx = browser.new_context(bypass_csp=True, viewport={"width": width, "height": height},
                              **options)
    ctx.set_default_timeout(10_000)
    return ctx


def violations(page: Page, disable: Iterable[str] = ()) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now (`disable`: rule ids not run, each with a
    reason at its caller)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=axe_source())
    options = {"runOnly": {"type": "tag", "values": TAGS},
               "rules": {rule: {"enabled": False} for rule in disable},
               "resultTypes": ["violations"]}
    return page.evaluate(
        """async (options) => {
            const results = await axe.run(document, options);
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target.map(String).join(' '),
                                          summary: n.failureSummary || ''})),
            }));
        }""",
        options,
    )


def describe(found: list[dict[str, Any]]) -> str:
    """One readable block per rule: id, impact, help, then each offending element."""
    lines = []
    for v in found:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}  [{v['helpUrl']}]")
        for node in v["nodes"][:10]:
            lines.append(f"    {node['target']}")
            for detail in node["summary"].splitlines()[1:3]:
                lines.append(f"      {detail.strip()}")
        if len(v["nodes"]) > 10:
            lines.append(f"    … and {len(v['nodes']) - 10} more")
    return "\n".join(lines)


def assert_accessible(page: Page, what: str, disable: Iterable[str] = ()) -> None:
    """Fail with axe's violations on `page`, named by `what` (the page and state audited)."""
    found = violations(page, disable)
    assert not found, f"{what}: {len(found)} axe rule(s) violated\n{describe(found)}"
