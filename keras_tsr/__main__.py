"""`python -m keras_tsr <command>`: the same commands as `tsr` (see `python -m keras_tsr --help`)."""

from keras_tsr.cli import main

if __name__ == "__main__":
    main(prog_name="python -m keras_tsr")
