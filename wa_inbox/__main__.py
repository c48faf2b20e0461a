from wa_inbox.cli import main

main()
