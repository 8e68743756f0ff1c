"""`insight audit`: reconcile a lake's counts end to end and name every gap."""
