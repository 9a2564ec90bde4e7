"""The decision trees warroom ships, as YAML data files beside this one (see README.md)."""
