"""`python -m keras_tsr.serve`: the same command as `tsr export` (nothing imports this file)."""

from keras_tsr.cli import main

main.commands["export"].main(prog_name="python -m keras_tsr.serve")
