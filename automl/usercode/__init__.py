"""The user's own Keras code: build functions and HyperModels over an Optuna trial."""
