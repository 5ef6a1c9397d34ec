// Codec module.
