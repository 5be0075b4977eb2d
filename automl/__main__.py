"""``python -m automl``."""

from automl.cli.main import main

if __name__ == "__main__":
    main()
