"""Time the Wagtail admin's page search: the stock database backend against ours (search.backend).

    python -m bench.admin_search 10000

Loads N practices into a throwaway SQLite site, builds both indexes, then as a superuser requests
``/admin/pages/search/?q=...`` (what the explorer's search box does) with each backend configured,
and prints p50/max per word and the ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.search import load, pct, setup_django

# What an editor types into the admin search box: whole words, a half-typed word, two words.
WORDS = ["textile", "waste", "plastic", "recyc", "circular economy", "digital skills"]
STOCK = {"default": {"BACKEND": "modelsearch.backends.database"}}
OURS = {"default": {"BACKEND": "search.backend"}}


def time_admin(client, backends: dict, word: str, rounds: int) -> tuple[list[float], int]:
    from django.test import override_settings

    times = []
    with override_settings(WAGTAILSEARCH_BACKENDS=backends):
        for _ in range(rounds):
            t = time.perf_counter()
            response = client.get("/admin/pages/search/", {"q": word})
            times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, response.status_code
    return times, response.context["page_obj"].paginator.count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    var_dir = Path(tempfile.mkdtemp(prefix="kb-bench-admin-"))
    setup_django(var_dir)
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from search import service

    # Lets the bench read each response's template context (the number of pages found).
    setup_test_environment()

    load_s = load(args.count, args.seed)
    print(f"corpus: {args.count} practices loaded in {load_s:.1f} s (SQLite)")
    t = time.perf_counter()
    service.rebuild(progress=False)
    print(f"our index: rebuilt in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    call_command("update_index", verbosity=0)
    print(f"stock Wagtail update_index: {time.perf_counter() - t:.1f} s")

    admin = User.objects.create_superuser("bench", "bench@example.org", "bench")
    client = Client()
    client.force_login(admin)
    print(f"admin page search, {args.rounds} rounds per word (first round includes warm-up):")
    for word in WORDS:
        stock, n_stock = time_admin(client, STOCK, word, args.rounds)
        ours, n_ours = time_admin(client, OURS, word, args.rounds)
        print(
            f"  {word!r:20} stock p50 {pct(stock, 50):8.0f} ms (max {max(stock):6.0f}, {n_stock} pages)"
            f" | ours p50 {pct(ours, 50):6.1f} ms (max {max(ours):6.1f}, {n_ours} pages)"
            f" | {pct(stock, 50) / pct(ours, 50):6.1f}x"
        )


if __name__ == "__main__":
    main()
