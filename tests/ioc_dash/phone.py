"""A phone in headless Chromium: mobile emulation (the page's viewport tag decides its width), taps
as touch events, and the checks every phone page must pass."""
from __future__ import annotations

from pathlib import Path

from selenium.webdriver.common.keys import Keys

from tests.ioc_dash.browser import SCREENSHOTS, Browser

OUT = SCREENSHOTS / "console"
MIN_TEXT_PX = 16
MIN_TARGET_PX = 44

#: visible text under arguments[1] px inside the element arguments[0] (a CSS selector), as lines
SMALL_TEXT_JS = """
const root = document.querySelector(arguments[0]);
if (!root) return ['nothing matches ' + arguments[0]];
const out = [];
const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
for (let n = walk.nextNode(); n; n = walk.nextNode()) {
  const text = n.textContent.trim(), el = n.parentElement;
  if (!text || !el.getClientRects().length) continue;
  const style = getComputedStyle(el);
  if (style.visibility !== 'visible' || style.opacity === '0') continue;
  const size = parseFloat(style.fontSize);
  if (size < arguments[1]) out.push(`${el.tagName.toLowerCase()}.${el.className} ${size}px: ${text.slice(0, 40)}`);
}
return out;
"""
#: elements inside arguments[0] whose content is wider than they are (cut, or scrolling sideways)
WIDE_JS = """
return [...document.querySelectorAll(arguments[0] + ' *')].filter(e => e.getClientRects().length
    && getComputedStyle(e).overflowX !== 'visible' && e.scrollWidth > e.clientWidth + 1)
  .map(e => `${e.tagName.toLowerCase()}#${e.id}.${e.className} ${e.scrollWidth} px in ${e.clientWidth} px`);
"""
#: visible elements matching arguments[0] as [name, height, width]
BOXES_JS = """
return [...document.querySelectorAll(arguments[0])].filter(e => e.getClientRects().length).map(e => {
  const r = e.getBoundingClientRect();
  return [e.id || e.className || e.tagName, r.height, r.width];
});
"""
#: the centre of the element arguments[0], scrolled into view, and whether a tap there reaches it
TAP_POINT_JS = """
const e = arguments[0];
e.scrollIntoView({block: 'center'});
const r = e.getBoundingClientRect(), x = r.x + r.width / 2, y = r.y + r.height / 2;
const hit = document.elementFromPoint(x, y);
return [x, y, !!hit && (hit === e || e.contains(hit))];
"""


class Phone(Browser):
    """A Browser the size of a phone, with touch."""

    def __init__(self, size: tuple[int, int]) -> None:
        super().__init__("phone")
        self.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
        self.resize(size)
        OUT.mkdir(parents=True, exist_ok=True)

    def resize(self, size: tuple[int, int]) -> None:
        self.size = size
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": size[0], "height": size[1], "deviceScaleFactor": 2, "mobile": True})

    def shot(self, name: str) -> Path:
        path = OUT / f"phone-{name}-{self.size[0]}x{self.size[1]}.png"
        self.driver.save_screenshot(str(path))
        return path

    def tap(self, css: str) -> None:
        """Touch the middle of the element: a finger, not a mouse; it must not be covered by another."""
        x, y, reached = self.driver.execute_script(TAP_POINT_JS, self.find(css))
        assert reached, f"a tap on {css} lands on something else"
        for kind, points in (("touchStart", [{"x": x, "y": y}]), ("touchEnd", [])):
            self.driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    def type_into(self, css: str, text: str) -> None:
        """Tap the field, then type into whatever the tap focused."""
        self.tap(css)
        self.wait(lambda: self.driver.execute_script("return document.activeElement.matches(arguments[0])", css),
                  what=f"{css} focused by the tap")
        self.driver.switch_to.active_element.send_keys(text)

    def type_held(self, css: str, text: str, attempts: int = 3) -> None:
        """Type into a field until it holds ``text``.  Keys sent the moment after an action, while Dash
        redraws the alert, were dropped once in a full run on a busy machine (the field focused and
        empty); a person sees the empty field and types again, and so does this."""
        for attempt in range(1, attempts + 1):
            self.type_into(css, text)
            try:
                self.wait(lambda: self.find(css).get_attribute("value") == text, timeout=5,
                          what=f"{text!r} in {css}")
                return
            except AssertionError:
                if attempt == attempts:
                    raise
                field = self.find(css)
                if field.get_attribute("value"):
                    field.send_keys(Keys.CONTROL, "a")
                    field.send_keys(Keys.BACKSPACE)

    # --- what every phone page must pass -------------------------------------------------------

    def width(self) -> tuple[int, int]:
        """(the layout viewport's width, the page's width): equal to the screen when the page fits."""
        return tuple(self.driver.execute_script(
            "return [window.innerWidth, document.documentElement.scrollWidth]"))

    def small_text(self, css: str) -> list[str]:
        return self.driver.execute_script(SMALL_TEXT_JS, css, MIN_TEXT_PX)

    def boxes(self, css: str) -> list[tuple[str, float, float]]:
        return [tuple(b) for b in self.driver.execute_script(BOXES_JS, css)]

    def problems(self, content: str = "#page") -> list[str]:
        """Sideways scrolling (of the page, or of a part of ``content``), text under 16 px in ``content``,
        controls too low to touch."""
        inner, scroll = self.width()
        out = [] if inner == self.size[0] else [f"layout viewport {inner} px on a {self.size[0]} px phone"]
        if scroll > self.size[0]:
            out.append(f"the page is {scroll} px wide on a {self.size[0]} px phone")
        out += self.driver.execute_script(WIDE_JS, content)
        out += self.small_text(content)
        controls = f"{content} button, {content} input:not([type=checkbox]):not([type=radio]), {content} textarea"
        out += [f"{name} {h:.0f} px tall" for name, h, _ in self.boxes(controls) if h < MIN_TARGET_PX]
        return out

    def check_fits(self, content: str = "#page") -> None:
        problems = self.problems(content)
        assert not problems, "\n".join(problems)
