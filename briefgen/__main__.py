from briefgen.commands import main

raise SystemExit(main())
