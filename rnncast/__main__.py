"""`python -m rnncast`: the same command line as the `rnncast` script."""

from rnncast.cli import main

if __name__ == "__main__":
    main()
