"""Data sources on disk, before TFDS: FMA's archives (`fma`), a folder of genre folders (`folders`), the
splits by track (`splits`) and the synthetic FMA-shaped data of the tests and the demo (`synth`)."""
