"""lambdaclient."""
