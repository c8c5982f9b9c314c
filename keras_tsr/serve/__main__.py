"""`python -m keras_tsr.serve`: the same command as `tsr export` (nothing imports this file)."""

from keras_tsr.cli import run_command

run_command("export", prog_name="python -m keras_tsr.serve")
