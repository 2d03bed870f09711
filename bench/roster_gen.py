#!/usr/bin/env python3
"""Generates rider roster snapshots for bench/roster.sh (standard library only).

    python3 bench/roster_gen.py OUT_DIR [ROWS]      # ROWS defaults to $ROWS or 100000

Writes, as NDJSON (one rider per line, the body of PUT /v1/platforms/{code}/roster):

  OUT_DIR/snapshot1.ndjson  ROWS valid riders: unique external_id, checksummed GB 11643
                            ID number (real GB/T 2260 county prefix, birth date giving an
                            age of 18-55, unique), unique mainland mobile 1[3-9]x, real
                            Ji'an region_code, started_on in the past, consent_to_join
                            true for ~90%
  OUT_DIR/snapshot3.ndjson  snapshot1 without 5% of its riders, and with 10% of the rest
                            changed (half a new phone, half a new name)

and prints the expected sync counts as JSON:
{"rows": N, "changed": C, "removed": R, "snapshot3_rows": N - R}.
Deterministic for a given SEED (environment, default 20261129).
"""

import datetime
import json
import os
import random
import sys

# ID number prefixes: current GB/T 2260 county codes (where riders were born).
ID_PREFIXES = [
    # Jiangxi, most riders
    "360102", "360103", "360104", "360111", "360112", "360121", "360123", "360124",
    "360802", "360803", "360821", "360822", "360823", "360824", "360825", "360826",
    "360827", "360828", "360829", "360830", "360881", "360702", "360703", "360402",
    "360403", "360302", "361102", "360902", "360982", "361002", "360602", "360502",
    "360202",
    # elsewhere
    "110105", "110108", "310115", "440106", "430102", "420102", "350203", "510104",
    "410105", "340104", "330106",
]
# Where riders work (the platform is Ji'an's): current GB/T 2260 codes.
WORK_REGIONS = ["360802", "360803", "360821", "360822", "360826", "360881", "360800"]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志文斌宇浩凯健俊帆鑫林海波亮成飞龙峰晨雪琳晶颖婷慧佳欣怡梦瑶思雨子轩博文嘉豪"
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"


def check_char(body17: str) -> str:
    return CHECK[sum(int(d) * w for d, w in zip(body17, WEIGHTS)) % 11]


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else int(os.environ.get("ROWS", "100000"))
    rng = random.Random(int(os.environ.get("SEED", "20261129")))
    os.makedirs(out, exist_ok=True)

    # "Today" in China, minus a day: no date generated here is in the future there.
    today = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8)).date()
    today -= datetime.timedelta(days=1)
    oldest = today.replace(year=today.year - 55)
    youngest = today.replace(year=today.year - 18)
    birth_span = (youngest - oldest).days
    started_from = datetime.date(2018, 1, 1)
    started_span = (today - started_from).days

    ids, phones = set(), set()

    def new_id() -> str:
        while True:
            born = oldest + datetime.timedelta(days=rng.randrange(birth_span))
            body = f"{rng.choice(ID_PREFIXES)}{born:%Y%m%d}{rng.randrange(1000):03d}"
            if body not in ids:
                ids.add(body)
                return body + check_char(body)

    def new_phone() -> str:
        while True:
            p = f"1{rng.choice('3456789')}{rng.randrange(10)}{rng.randrange(10**8):08d}"
            if p not in phones:
                phones.add(p)
                return p

    def new_name() -> str:
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))

    riders = []
    for n in range(rows):
        riders.append({
            "external_id": f"MT-{n + 1:08d}",
            "name": new_name(),
            "phone": new_phone(),
            "id_number": new_id(),
            "region_code": rng.choice(WORK_REGIONS),
            "started_on": str(started_from + datetime.timedelta(days=rng.randrange(started_span))),
            "consent_to_join": rng.random() < 0.9,
        })

    def write(name, items):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            for r in items:
                f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")))
                f.write("\n")

    write("snapshot1.ndjson", riders)

    order = list(range(rows))
    rng.shuffle(order)
    removed = set(order[: rows * 5 // 100])
    changed = set(order[rows * 5 // 100: rows * 5 // 100 + rows * 10 // 100])
    third = []
    for n, r in enumerate(riders):
        if n in removed:
            continue
        if n in changed:
            r = dict(r)
            if n % 2:
                r["phone"] = new_phone()
            else:
                old = r["name"]
                while r["name"] == old:
                    r["name"] = new_name()
        third.append(r)
    write("snapshot3.ndjson", third)

    print(json.dumps({"rows": rows, "changed": len(changed), "removed": len(removed),
                      "snapshot3_rows": len(third)}))


if __name__ == "__main__":
    main()
