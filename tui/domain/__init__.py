"""What warroom knows and judges: pure, no I/O, no Textual."""
