import os

# Keras 3 runs on the JAX backend in these tests; set before anything imports keras.
os.environ.setdefault("KERAS_BACKEND", "jax")
