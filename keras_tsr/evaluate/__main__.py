"""`python -m keras_tsr.evaluate`: the same command as `tsr evaluate` (nothing imports this file)."""

from keras_tsr.cli import run_command

run_command("evaluate", prog_name="python -m keras_tsr.evaluate")
