"""`python -m keras_tsr.predict`: the same command as `tsr predict` (nothing imports this file)."""

from keras_tsr.cli import main

main.commands["predict"].main(prog_name="python -m keras_tsr.predict")
