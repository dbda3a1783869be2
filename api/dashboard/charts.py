"""Charts drawn on the server as SVG: no script, no library, readable at any width."""
from markupsafe import Markup, escape

from campaign.funnel import Funnel

LABELS: dict[str, str] = {}
BAR_HEIGHT, GAP, LABEL_WIDTH, WIDTH = 26, 8, 120, 560


def funnel_svg(funnel: Funnel) -> Markup:
    """One horizontal bar per stage, as long as its share of the first stage, with its figure."""
    top = max(funnel.total.values(), default=0) or 1
    bar_space = WIDTH - LABEL_WIDTH - 110
    parts = []
    for i, stage in enumerate(funnel.stages):
        y = i * (BAR_HEIGHT + GAP)
        count = funnel.total.get(stage, 0)
        width = max(2, round(bar_space * count / top)) if count else 0
        share = f"{funnel.rate(stage):.0%}"
        parts.append(
            f'<g class="bar" data-stage="{stage}">'
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT * 0.68}" text-anchor="end">{escape(LABELS.get(stage, stage))}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width}" height="{BAR_HEIGHT}" rx="3"></rect>'
            f'<text class="figure" x="{LABEL_WIDTH + width + 6}" y="{y + BAR_HEIGHT * 0.68}">{count} · {share}</text></g>'
        )
    height = len(funnel.stages) * (BAR_HEIGHT + GAP)
    return Markup(f'<svg class="chart" role="img" aria-label="Funnel" viewBox="0 0 {WIDTH} {height}" '
                  f'preserveAspectRatio="xMinYMin meet">{"".join(parts)}</svg>')
