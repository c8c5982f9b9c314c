"""Studies built from training runs: the paper's grids (`experiment`), k-fold cross-validation on your own
music (`cv`) and the main job end to end on the built-in demo (`demo`)."""
