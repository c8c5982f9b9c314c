"""fma_small_logmel dataset."""
