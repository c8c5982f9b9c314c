"""`python -m keras_tsr.evaluate`: the same command as `tsr evaluate` (nothing imports this file)."""

from keras_tsr.cli import main

main.commands["evaluate"].main(prog_name="python -m keras_tsr.evaluate")
