"""Server-side SVG charts for the statistics pages: no JavaScript, no CDN. Each chart is a
picture of the table printed beside it (which screen readers use)."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from citizens.statistics import HIDDEN, Row, Table

register = template.Library()

ROW = 18  # px per row
LABEL = 160  # px for the row labels of a bar chart
WIDTH = 440


def _value(value: int | None, threshold: int) -> str:
    return HIDDEN if value is None else f"{value:,}".replace(",", ".")


@register.simple_tag
def stat_chart(table: Table, threshold: int) -> SafeString:
    if table.chart == "pyramid":
        return _pyramid(table, threshold)
    return _bars(table, threshold)


def _bars(table: Table, threshold: int) -> SafeString:
    room = WIDTH - LABEL - 50
    rows = format_html_join(
        "",
        '<g transform="translate(0 {})"><text x="{}" y="13" text-anchor="end" class="label">'
        '{}</text><rect class="bar" x="{}" y="3" width="{}" height="13"></rect>'
        '<text x="{}" y="13" class="value">{}</text></g>',
        (
            (
                index * ROW,
                LABEL - 4,
                row.label[:26],
                LABEL,
                round(room * row.share / 100, 1),
                LABEL + round(room * row.share / 100, 1) + 4,
                _value(row.values[0], threshold),
            )
            for index, row in enumerate(table.rows)
        ),
    )
    return format_html(
        '<svg class="chart bars" viewBox="0 0 {} {}" role="img" aria-hidden="true" '
        'focusable="false">{}</svg>',
        WIDTH,
        max(len(table.rows), 1) * ROW,
        rows,
    )


def _pyramid(table: Table, threshold: int) -> SafeString:
    middle, label = WIDTH / 2, 44
    room = middle - label / 2 - 40

    def row(index: int, item: Row) -> tuple[object, ...]:
        male = round(room * item.shares[0] / 100, 1)
        female = round(room * item.shares[1] / 100, 1)
        left, right = middle - label / 2, middle + label / 2
        return (
            (index + 1) * ROW,
            left - male,
            male,
            left - male - 3,
            _value(item.values[0], threshold),
            middle,
            item.label,
            right,
            female,
            right + female + 3,
            _value(item.values[1], threshold),
        )

    rows = format_html_join(
        "",
        '<g transform="translate(0 {})"><rect class="bar male" x="{}" y="2" width="{}" '
        'height="12"></rect><text x="{}" y="12" text-anchor="end" class="value">{}</text>'
        '<text x="{}" y="12" text-anchor="middle" class="label">{}</text>'
        '<rect class="bar female" x="{}" y="2" width="{}" height="12"></rect>'
        '<text x="{}" y="12" class="value">{}</text></g>',
        (row(index, item) for index, item in enumerate(table.rows)),
    )
    return format_html(
        '<svg class="chart pyramid" viewBox="0 0 {} {}" role="img" aria-hidden="true" '
        'focusable="false"><text x="{}" y="12" text-anchor="middle" class="legend">{}</text>'
        '<text x="{}" y="12" text-anchor="middle" class="legend">{}</text>{}</svg>',
        WIDTH,
        (len(table.rows) + 1) * ROW + 4,
        middle / 2,
        table.columns[0],
        middle * 1.5,
        table.columns[1],
        rows,
    )
