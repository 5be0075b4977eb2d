"""Tracking: a sweep's trials in MLflow and TensorBoard, logged from the workers."""
