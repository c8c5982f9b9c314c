"""`python -m keras_tsr.predict`: the same command as `tsr predict` (nothing imports this file)."""

from keras_tsr.cli import run_command

run_command("predict", prog_name="python -m keras_tsr.predict")
