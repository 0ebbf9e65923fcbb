"""Small-cell suppression: 1-4 patients show as "< 5", and a hidden cell cannot be computed back
from a total minus the cells beside it."""

from reports.tables import COMPLEMENT, COUNT, HIDDEN, MEDIAN, SHARE, Column, Table


def _table(rows, total=None, columns=None):
    columns = columns or [
        Column("a", "A", part_of="all"),
        Column("b", "B", part_of="all"),
        Column("all", "All"),
    ]
    if total is None:
        total = {"label": "total"}
        for column in columns:
            if column.kind == COUNT:
                total[column.key] = sum(r[column.key] for r in rows)
    return Table("t", "T", "Practice", columns, rows, total)


def _texts(table):
    return [[c.text for c in table.cells(i)] for i in range(len(table.all_rows()))]


def test_counts_of_one_to_four_patients_are_shown_as_less_than_five():
    table = _table(
        [{"label": "p", "a": 3, "b": 0, "all": 3}],
        columns=[Column("a", "A"), Column("b", "B"), Column("all", "All")],
    ).suppress()
    assert _texts(table)[0] == [HIDDEN, "0", HIDDEN]


def test_zero_and_five_or_more_are_shown():
    table = _table(
        [{"label": "p", "a": 5, "b": 0, "all": 5}, {"label": "q", "a": 6, "b": 7, "all": 13}]
    ).suppress()
    assert _texts(table) == [["5", "0", "5"], ["6", "7", "13"], ["11", "7", "18"]]


def test_a_practice_total_minus_the_other_practices_does_not_reveal_a_hidden_cell():
    rows = [
        {"label": "p", "a": 2, "b": 9, "all": 11},
        {"label": "q", "a": 8, "b": 9, "all": 17},
        {"label": "r", "a": 12, "b": 9, "all": 21},
    ]
    table = _table(rows).suppress()
    texts = _texts(table)
    column_a = [row[0] for row in texts]
    assert column_a.count(HIDDEN) == 1 and column_a.count(COMPLEMENT) >= 1, texts
    assert texts[0][0] == HIDDEN  # p's 2 is small
    assert texts[1][0] == COMPLEMENT  # q's 8 is hidden so that the total gives no 2, not small
    # and within p's row the channels add up to p's total: b or all is hidden too
    assert COMPLEMENT in (texts[0][1], texts[0][2])


def test_every_sum_shown_has_none_or_at_least_two_hidden_cells():
    rows = [
        {"label": str(i), "a": a, "b": b, "all": a + b}
        for i, (a, b) in enumerate([(1, 30), (20, 2), (6, 6), (0, 3), (40, 50)])
    ]
    table = _table(rows).suppress()
    texts = _texts(table)
    for col in range(3):
        hidden = sum(1 for row in texts if row[col] in (HIDDEN, COMPLEMENT))
        assert hidden != 1, (col, texts)
    for row in texts:
        assert sum(1 for cell in row if cell in (HIDDEN, COMPLEMENT)) != 1, texts


def test_a_share_or_median_of_fewer_than_five_or_of_a_hidden_count_is_not_shown():
    columns = [
        Column("n", "N"),
        Column("k", "K"),
        Column("share", "%", SHARE, numerator="k", denominator="n"),
        Column("median", "median", MEDIAN, denominator="n"),
    ]
    rows = [
        {"label": "small", "n": 4, "k": 2, "median": 12.0},
        {"label": "hidden numerator", "n": 20, "k": 3, "median": 30.0},
        {"label": "shown", "n": 20, "k": 10, "median": 24.5},
    ]
    table = Table("t", "T", "Practice", columns, rows, None).suppress()
    texts = _texts(table)
    assert texts[0][2:] == [HIDDEN, HIDDEN]
    assert texts[1][2] == HIDDEN and texts[1][3] == "30,0"
    assert texts[2][2:] == ["50%", "24,5"]


def test_without_suppression_provider_staff_see_the_exact_counts():
    table = _table([{"label": "p", "a": 2, "b": 1, "all": 3}])
    assert _texts(table)[0] == ["2", "1", "3"]
