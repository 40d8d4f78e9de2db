"""The bases every app's API builds on."""
