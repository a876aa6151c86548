from sinkcheck.cli import main

main()
