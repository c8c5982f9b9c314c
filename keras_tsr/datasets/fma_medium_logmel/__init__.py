"""fma_medium_logmel dataset."""
