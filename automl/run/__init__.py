"""Running trials: the conductor, worker processes and their loop, devices, the budget."""
