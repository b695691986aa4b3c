"""NeuMF machinery: the network (forward only), its trainer and the batched grid scorer."""
