from optax_lrs.cli import main

raise SystemExit(main())
