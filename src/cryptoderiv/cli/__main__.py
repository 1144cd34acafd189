"""``python -m cryptoderiv.cli``."""

from cryptoderiv.cli import main

main()
