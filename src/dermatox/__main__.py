from dermatox.cli import main

raise SystemExit(main())
