"""Boot A/B: binaries alternated round by round, each on its own database (migrated and
stamped beforehand by booting it twice), whole-process wall time from spawn to exit.

usage: python3 boot_ab.py ROUNDS name=BINARY:DATABASE ... (the last one is the reference)
example: python3 boot_ab.py 60 old=old-app:ab_old new=new-app:ab_new bare=bare-app:ab_bare
Prints per binary the median, the minimum and the median of per-round ratios to the reference.
"""
import os, subprocess, sys, time, statistics, resource
rounds = int(sys.argv[1])
bins = sys.argv[2:]  # name=path[:db]
specs = []
for b in bins:
    name, rest = b.split('=', 1)
    path, db = rest.split(':')
    specs.append((name, path, db))
url = lambda db: f"postgres://postgres@127.0.0.1:5432/{db}?sslmode=disable"
times = {n: [] for n, _, _ in specs}
env = dict(os.environ)
for k in ("RUST_LOG", "BLUEFOX_MIGRATE", "BLUEFOX_SCHEMA_WATCH", "PGOPTIONS"):
    env.pop(k, None)
for r in range(rounds):
    for k in range(len(specs)):
        n, p, db = specs[(k + r) % len(specs)]
        e = dict(env, DATABASE_URL=url(db))
        t = time.perf_counter()
        pid = os.posix_spawn(p, [p], e)
        _, status, ru = os.wait4(pid, 0)
        dt = (time.perf_counter() - t) * 1000
        assert status == 0, (n, status)
        times[n].append(dt)
ref = specs[-1][0]
for n, _, _ in specs:
    ratios = [a / b for a, b in zip(times[n], times[ref])]
    print(f"{n:12s} median {statistics.median(times[n]):6.2f} ms  min {min(times[n]):6.2f}  ratio-median {statistics.median(ratios):.3f}")
