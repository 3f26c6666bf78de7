"""Safeguarding: alerting the on-call lead about a concern, escalating to the deputy when the
lead does not acknowledge, and taking the lead's acknowledgement by SMS."""
