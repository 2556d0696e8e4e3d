"""GB/T 2260 regions and the demo agency directory."""

import io
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count, F

from agencies.models import Agency, Region, Scheme

pytestmark = pytest.mark.django_db

DATA_DIR = Path(__file__).resolve().parent.parent / "agencies" / "data"
UNDIVIDED_CITIES = {"441900", "442000", "460400"}  # 东莞, 中山, 儋州: prefecture-level, no districts


def load_twice():
    for _ in range(2):
        call_command("load_reference_data", stdout=io.StringIO())


def current_counts():
    return Counter(Region.objects.filter(current=True).values_list("level", flat=True))


def test_the_migration_alone_loads_every_region():
    assert Region.objects.count() == 6781
    assert current_counts() == {"province": 31, "prefecture": 339, "county": 2978}


def test_loading_twice_keeps_the_counts():
    load_twice()
    assert Region.objects.count() == 6781
    assert current_counts() == {"province": 31, "prefecture": 339, "county": 2978}
    assert Region.objects.filter(current=False).count() == 6781 - 31 - 339 - 2978
    assert Agency.objects.count() == 2 * (339 + len(UNDIVIDED_CITIES))


def test_330103_is_a_retired_county_of_hangzhou():
    load_twice()
    xiacheng = Region.objects.select_related("parent__parent").get(code="330103")
    assert xiacheng.name == "下城区"
    assert xiacheng.level == Region.Level.COUNTY
    assert xiacheng.current is False
    assert xiacheng.last_seen  # it says when it was last listed
    assert xiacheng.parent_id == "330100"
    assert xiacheng.parent.name == "杭州市"
    assert xiacheng.full_name == "浙江省杭州市下城区"


def test_every_parent_is_another_region_one_level_up_or_more():
    rank = {"province": 0, "prefecture": 1, "county": 2}
    regions = Region.objects.select_related("parent")
    assert not regions.filter(parent_id=F("code")).exists()
    assert not regions.filter(level="province").exclude(parent=None).exists()
    orphans = [r.code for r in regions.exclude(level="province") if r.parent is None]
    assert orphans == []
    upside_down = [r.code for r in regions.exclude(parent=None) if rank[r.parent.level] >= rank[r.level]]
    assert upside_down == []


def test_municipality_districts_name_the_whole_place():
    region = Region.objects.get(code="110101")
    assert region.full_name == "北京市东城区"  # not 北京市市辖区东城区


def test_one_pension_and_one_medical_agency_per_prefecture(demo_agencies):
    assert demo_agencies == 684
    expected_regions = (
        set(Region.objects.filter(current=True, level="prefecture").values_list("code", flat=True))
        | UNDIVIDED_CITIES
    )
    per_region = Agency.objects.values("region_id", "scheme").annotate(n=Count("id"))
    assert {(row["region_id"], row["scheme"]) for row in per_region} == {
        (code, scheme) for code in expected_regions for scheme in Scheme.values
    }
    assert all(row["n"] == 1 for row in per_region)


def test_undivided_cities_hang_under_their_province(demo_agencies):
    dongguan = Agency.objects.select_related("region__parent").get(code="YL441900")
    assert dongguan.region.parent_id == "440000"
    assert dongguan.name == "东莞市社会保险事业管理中心（演示）"


def test_demo_agencies_are_recognisable_as_demo_data(demo_agencies):
    agencies = list(Agency.objects.all())
    assert [a.code for a in agencies if not a.name.endswith("（演示）")] == []
    assert [a.code for a in agencies if not a.fund_account_number.startswith("DEMO-")] == []
    assert [a.code for a in agencies if "演示" not in a.fund_bank] == []
    assert [a.code for a in agencies if "演示" not in a.address] == []
    # The placeholder 市辖区 of GB/T 2260 never shows up as a place: 北京市…, not 北京市辖区… or 市辖区….
    assert [a.name for a in agencies if "市辖区" in a.name] == []
    assert Agency.objects.get(code="YL110100").name == "北京市社会保险事业管理中心（演示）"


def test_hangzhou_has_both_schemes_with_every_field(demo_agencies):
    pension = Agency.objects.get(region_id="330100", scheme=Scheme.PENSION)
    medical = Agency.objects.get(region_id="330100", scheme=Scheme.MEDICAL)
    assert pension.name == "杭州市社会保险事业管理中心（演示）"
    assert medical.name == "杭州市医疗保障事业管理中心（演示）"
    for agency in (pension, medical):
        assert agency.address and agency.postcode and agency.phone
        assert agency.fund_account_name and agency.fund_bank and agency.fund_account_number
    assert Agency.objects.filter(online_connected=False).exists()
    assert Agency.objects.filter(online_connected=True).exists()


def test_loading_agencies_again_changes_nothing(demo_agencies):
    before = list(Agency.objects.order_by("code").values())
    call_command("load_reference_data", stdout=io.StringIO())
    assert list(Agency.objects.order_by("code").values()) == before


def test_provenance_note_names_its_sources_and_date():
    note = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    assert "GB/T 2260" in note
    assert "National Bureau of Statistics" in note
    assert "Ministry of Civil Affairs" in note
    assert "Snapshot date: 2023-06-30" in note
    assert (DATA_DIR / "regions.csv").exists()
