"""A model and its tokenizer: loading (and checking) them, tokenizing documents into windows with
what each piece stands for, one forward pass, and how tokens are shown. Imports only ``inputs``."""
