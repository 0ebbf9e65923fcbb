"""What the intake benchmarks serve under gunicorn: the product plus one bare view, never in the product."""
