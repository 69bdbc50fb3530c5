"""`python -m reconciler_emulator`: the emulator's command line (the same as `reconciler emulator`).

Owns nothing: see `cli`. Must not import anything of the product.
"""

from reconciler_emulator.cli import main

main()
