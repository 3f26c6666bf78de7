"""The email channel (DESIGN.md, "One email").

parsing   raw bytes -> ParsedMail (never raises; text, new text, attachments, machine or person)
threads   thread tokens, "[Ref: ...]" and Message-ID references, signed consent links
service   the flow: risk first through the core, hold, one consent request, answers, replies
server    aiosmtpd on the app's loop: 550 for strangers, 552 for oversize, 250 only once held
web       GET|POST /consent/{token}: GET shows the choice, only POST records it
compose   outbound words and headers (no header injection), as outbox payloads
sender    the outbox worker: aiosmtplib to INTAKE_SMTP_RELAY, retries, visible failures
simulate  `intake simulate email`: write to the running gateway as a parent would
"""
