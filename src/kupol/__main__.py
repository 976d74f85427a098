from kupol.cli import main

main()
