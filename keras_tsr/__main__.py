"""`python -m keras_tsr <command>`: the same commands as `tsr` (see `python -m keras_tsr --help`).

An entry file: nothing imports it.
"""

from keras_tsr.cli import main

main(prog_name="python -m keras_tsr")
