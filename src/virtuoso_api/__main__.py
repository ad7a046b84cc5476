from virtuoso_api.cli import main

main()
