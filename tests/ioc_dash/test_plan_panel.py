"""The services page's plan panel follows the day of the snapshot: the plan in effect, or none."""
from datetime import datetime, timezone

import pytest

from ioc_dash.app import create_app
from ioc_dash.repository import Snapshot
from tests.ioc_dash.wall_support import call, text, wall_client


@pytest.mark.parametrize("taken_at, lang, title, in_table", [
    # 31/12/2023 23:30 local is still 2023: plan 274/KH-UBND
    (datetime(2023, 12, 31, 16, 30, tzinfo=timezone.utc), "vi", "Chỉ tiêu Kế hoạch 274/KH-UBND · 01/01/2023–31/12/2023",
     "Người dân, doanh nghiệp được xác thực định danh điện tử"),
    # 00:30 local on 1/1/2024: no plan file covers 2024
    (datetime(2023, 12, 31, 17, 30, tzinfo=timezone.utc), "vi", "Không có kế hoạch hiệu lực ngày 01/01/2024",
     "thêm tệp kế hoạch vào thư mục kế hoạch"),
    (datetime(2026, 12, 31, 9, 0, tzinfo=timezone.utc), "en",
     "Targets carried on from plan 274/KH-UBND · 01/01/2025–31/12/2026", "No feed reports this target"),
])
def test_the_plan_of_the_snapshot_day(test_settings, taken_at, lang, title, in_table):
    app = create_app(test_settings, read_snapshot=lambda: Snapshot(taken_at))
    out = call(wall_client(app, test_settings), app, "svc-kpis.children", {"lang.data": lang})
    assert out["svc-plan-title"]["children"] == title
    assert in_table in text(out["svc-plan"])
