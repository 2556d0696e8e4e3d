"""Loading the reference data: GB/T 2260 regions and the demo agency directory.

Both loaders are idempotent upserts, so they can run any number of times. They take the model classes
as arguments so that a data migration can call them with its historical models.
"""

import csv
from pathlib import Path

from django.db.models import F

REGIONS_CSV = Path(__file__).resolve().parent / "data" / "regions.csv"
REGION_FIELDS = ["name", "level", "parent_code", "parent", "first_seen", "last_seen", "current"]


def read_regions(path=REGIONS_CSV):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def nearest_parent(code, parent_code, known_codes):
    """The published parent if it exists, else the nearest existing ancestor; never the code itself."""
    for candidate in (parent_code, code[:4] + "00", code[:2] + "0000"):
        if candidate and candidate != code and candidate in known_codes:
            return candidate
    return None


def load_regions(Region, rows=None):
    rows = rows if rows is not None else read_regions()
    known = {row["code"] for row in rows}
    objects = [
        Region(
            code=row["code"],
            name=row["name"],
            level=row["level"],
            parent_code=row["parent_code"],
            parent_id=nearest_parent(row["code"], row["parent_code"], known),
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
            current=row["current"] == "1",
        )
        for row in rows
    ]
    # Parents may come after their children in one batch; foreign keys are checked at commit.
    Region.objects.bulk_create(
        objects, batch_size=1000, update_conflicts=True, unique_fields=["code"], update_fields=REGION_FIELDS
    )
    return len(objects)


PLACEHOLDER_PLACE = {
    "市辖区": "",
    "县": "辖县",
    "省直辖县级行政区划": "直辖县级行政区划",
    "自治区直辖县级行政区划": "直辖县级行政区划",
}


def agency_regions(Region):
    """Every current prefecture-level region, plus the prefecture-level cities without districts."""
    prefectures = Region.objects.filter(current=True, level="prefecture")
    undivided_cities = Region.objects.filter(current=True, level="county", parent_code=F("code"))
    return list(prefectures.select_related("parent")) + list(undivided_cities.select_related("parent"))


def place_name(region):
    province = region.parent.name if region.parent_id else ""
    if region.name in PLACEHOLDER_PLACE:
        return province + PLACEHOLDER_PLACE[region.name]
    return region.name


def demo_connected(region_code):
    """Demo only: about one agency in seven is marked as not yet connected online, deterministically."""
    return int(region_code[2:4]) % 7 != 3


DEMO_SCHEMES = {
    "pension": ("YL", "社会保险事业管理中心"),
    "medical": ("YB", "医疗保障事业管理中心"),
}


def load_demo_agencies(Agency, Region):
    """One pension and one medical agency per prefecture. Every value says it is demo data: names end
    in （演示）, the bank is a demo bank and the account numbers start with DEMO, which no bank uses."""
    count = 0
    for region in agency_regions(Region):
        place = place_name(region)
        for scheme, (prefix, body) in DEMO_SCHEMES.items():
            code = f"{prefix}{region.code}"
            name = f"{place}{body}（演示）"
            Agency.objects.update_or_create(
                code=code,
                defaults={
                    "name": name,
                    "scheme": scheme,
                    "region": region,
                    "address": f"{place}演示路 1 号（演示地址）",
                    "postcode": "000000",
                    "phone": "0000-12333（演示）",
                    "online_connected": demo_connected(region.code),
                    "fund_account_name": f"{name}基金收入户",
                    "fund_bank": "演示银行（非真实账户）",
                    "fund_account_number": f"DEMO-{code}",
                },
            )
            count += 1
    return count
