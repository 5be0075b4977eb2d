"""One fit path for every trial: compile and fit, callbacks, folds, recommenders."""
