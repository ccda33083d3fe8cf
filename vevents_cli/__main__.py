"""`python -m vevents_cli`: the console script's entry point (`cli.main`)."""

try:
    from vevents_cli.cli import main
except KeyboardInterrupt:  # Ctrl-C before vevents could set its own handlers: the signal's status, quietly
    raise SystemExit(130) from None

if __name__ == "__main__":
    main()
