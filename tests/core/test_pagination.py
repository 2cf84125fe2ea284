"""Lists count at most COUNT_CAP rows past the page shown; past it the pager says "more
than" and still leads on (portal/pagination.py)."""

from portal import pagination
from tests.conftest import make_user


def _pager(html: str) -> str:
    return html.split('<nav class="pagination"', 1)[1].split("</nav>", 1)[0]


def test_a_list_longer_than_the_cap_says_more_than_and_leads_on(app, login_as, monkeypatch,
                                                                 count_queries):
    admin = login_as("admin")
    for n in range(11):
        make_user(app, role="client", email=f"pager{n:02d}@example.com")
    monkeypatch.setitem(app.config, "PER_PAGE", 3)
    monkeypatch.setattr(pagination, "COUNT_CAP", 7)
    with count_queries() as queries:
        first = admin.get("/admin/users?role=client&lang=zh").get_data(as_text=True)
    pager = _pager(first)
    # 11 clients: counted up to the cap (7) past page 1's offset (0): "more than 7", so
    # more than 2 pages of 3.
    assert "第 1 页，共 2 页以上" in pager and "超过 7 条" in pager
    assert "page=2" in pager and "共 11 条" not in pager
    count = next(q for q in queries if q.lower().startswith("select count("))
    assert "LIMIT" in count.upper()  # the count stops early
    # Page 3 counts from its own offset (6): the 5 rows that follow are within the cap.
    third = _pager(admin.get("/admin/users?role=client&page=3&lang=en").get_data(as_text=True))
    assert "Page 3 of 4" in third and "11 in all" in third and "page=4" in third
    last = _pager(admin.get("/admin/users?role=client&page=4&lang=en").get_data(as_text=True))
    assert "Page 4 of 4" in last and "page=5" not in last and "rel=\"next\"" not in last


def test_a_list_within_the_cap_gives_its_exact_total(app, login_as, monkeypatch):
    admin = login_as("admin")
    for n in range(4):
        make_user(app, role="client", email=f"short{n}@example.com")
    monkeypatch.setitem(app.config, "PER_PAGE", 3)
    pager = _pager(admin.get("/admin/users?role=client&lang=zh").get_data(as_text=True))
    assert "第 1 页，共 2 页" in pager and "共 4 条" in pager and "以上" not in pager

