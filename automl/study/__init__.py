"""A study's life: create and open it, keep models, evaluate, ensemble, refit."""
