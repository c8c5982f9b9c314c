"""`python -m keras_tsr.train --backend jax ...`: the design card's command, the same as `tsr train`.

An entry file: nothing imports it, and it is the only kind of file that imports the CLI.
"""

from keras_tsr.cli import run_command

run_command("train", prog_name="python -m keras_tsr.train")
