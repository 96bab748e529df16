"""`dermatox demo`: the demo clinics, staff and synthetic patients."""

from __future__ import annotations


def cmd_demo(args) -> int:
    from dermatox.demo.loader import demo_load, demo_logins, demo_present

    if args.if_empty and demo_present():
        print("Demo data already loaded.")
    else:
        summary = demo_load(seed=args.seed, patients=args.patients)
        print(f"Demo loaded: {summary}")
    print(demo_logins())
    return 0
