"""The staff console: where advisers work the queue and reply, and the safeguarding lead sees
concerns arrive and acts on them. Server-rendered pages (aiohttp-jinja2, GOV.UK Frontend); the
live queue is the only part that needs JavaScript."""
