"""`python -m crmcli`."""

from crmcli.cli.app import main

if __name__ == "__main__":
    main()
