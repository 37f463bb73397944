"""Write store_promotions.csv: SYNTHETIC daily sales of four stores, driven by planned promotions.

Made up, not measured: a worked example of --known and --static with an effect that is
really there. Sales = the store type's level + a weekly cycle + 25 on promotion days +
noise. 2025 has sales; the 14 days after (2026-01-01 .. 2026-01-14) have the promotion
plan (north and east on 8-10 January, south and west on 3 January) and no sales yet:
the rows `rnncast predict --data` reads as the future.

    python sample_data/store_promotions.py   # rewrites sample_data/store_promotions.csv
"""

from pathlib import Path

import numpy as np

LEVEL = {"mall": 120.0, "street": 60.0}
STORES = {"north": "mall", "south": "mall", "east": "street", "west": "street"}
WEEKLY = np.array([0.0, -4.0, -3.0, 0.0, 6.0, 14.0, 9.0])  # Monday .. Sunday
PLAN = {"north": ("2026-01-08", "2026-01-10"), "east": ("2026-01-08", "2026-01-10"),
        "south": ("2026-01-03", "2026-01-03"), "west": ("2026-01-03", "2026-01-03")}


def main() -> None:
    rng = np.random.default_rng(2025)
    days = np.arange(np.datetime64("2025-01-01"), np.datetime64("2026-01-15"))
    weekday = (days.astype("datetime64[D]").view("int64") + 3) % 7  # 1970-01-01 was a Thursday
    history = days < np.datetime64("2026-01-01")
    lines = ["date,store,store_type,promo,sales"]
    for store, kind in STORES.items():
        promo = (rng.random(len(days)) < 0.15).astype(int)
        first, last = (np.datetime64(d) for d in PLAN[store])
        promo[~history] = (days[~history] >= first) & (days[~history] <= last)
        sales = LEVEL[kind] + WEEKLY[weekday] + 25.0 * promo + rng.normal(0, 4.0, len(days))
        for day, flag, value, seen in zip(days, promo, sales, history):
            lines.append(f"{day},{store},{kind},{flag},{value:.1f}" if seen else f"{day},{store},{kind},{flag},")
    Path(__file__).with_name("store_promotions.csv").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
