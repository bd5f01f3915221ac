"""CMER-CL (seed 002): cross-modal music <-> emotion embeddings with the composite CCA + KL loss."""
